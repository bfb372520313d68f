//! Navigation entries of the web app, each guarded by a permission of the shared matrix,
//! so that what a role sees in the menu is exactly what the API lets it do. The sidebar shows
//! them under their section's heading; the account section is the menu behind one's name.

use crate::roles::{roles_grant, Permission, Role};

/// Where an entry is shown: a heading of the sidebar, or the account menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavSection {
    Work,
    Sales,
    Organisation,
    Administration,
    /// The menu behind the signed-in user's name, not the sidebar.
    Account,
}

impl NavSection {
    /// The sidebar's sections, in order.
    pub const SIDEBAR: [NavSection; 4] = [
        NavSection::Work,
        NavSection::Sales,
        NavSection::Organisation,
        NavSection::Administration,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            NavSection::Work => "Work",
            NavSection::Sales => "Sales",
            NavSection::Organisation => "Organisation",
            NavSection::Administration => "Administration",
            NavSection::Account => "Your account",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavItem {
    pub label: &'static str,
    pub path: &'static str,
    pub icon: &'static str,
    pub permission: Permission,
    pub section: NavSection,
}

pub const NAV_ITEMS: &[NavItem] = &[
    NavItem {
        label: "Dashboard",
        path: "/",
        icon: "◧",
        permission: Permission::DashboardView,
        section: NavSection::Work,
    },
    NavItem {
        label: "Requests",
        path: "/requests",
        icon: "⧉",
        permission: Permission::RequestsCreate,
        section: NavSection::Work,
    },
    NavItem {
        label: "Resources",
        path: "/resources",
        icon: "◫",
        permission: Permission::ResourcesRead,
        section: NavSection::Work,
    },
    NavItem {
        label: "Approvals",
        path: "/approvals",
        icon: "✓",
        permission: Permission::RequestsApprove,
        section: NavSection::Work,
    },
    NavItem {
        label: "Servers",
        path: "/servers",
        icon: "▣",
        permission: Permission::ServersRead,
        section: NavSection::Work,
    },
    NavItem {
        label: "Scripts",
        path: "/scripts",
        icon: "❯",
        permission: Permission::ScriptsManage,
        section: NavSection::Work,
    },
    NavItem {
        label: "Projects",
        path: "/projects",
        icon: "⎇",
        permission: Permission::DeploymentsManage,
        section: NavSection::Work,
    },
    NavItem {
        label: "Deployments",
        path: "/deployments",
        icon: "⇪",
        permission: Permission::DeploymentsManage,
        section: NavSection::Work,
    },
    NavItem {
        label: "Clients",
        path: "/clients",
        icon: "◉",
        permission: Permission::ClientsManage,
        section: NavSection::Sales,
    },
    NavItem {
        label: "Revenue",
        path: "/revenue",
        icon: "↗",
        permission: Permission::RevenueRead,
        section: NavSection::Sales,
    },
    NavItem {
        label: "Teams",
        path: "/teams",
        icon: "◎",
        permission: Permission::TeamsRead,
        section: NavSection::Organisation,
    },
    NavItem {
        label: "Resource types",
        path: "/resource-types",
        icon: "▤",
        permission: Permission::ResourceTypesRead,
        section: NavSection::Organisation,
    },
    NavItem {
        label: "Administration",
        path: "/admin",
        icon: "⚙",
        permission: Permission::UsersManage,
        section: NavSection::Administration,
    },
    NavItem {
        label: "Providers",
        path: "/providers",
        icon: "☁",
        permission: Permission::ProvidersManage,
        section: NavSection::Administration,
    },
    NavItem {
        label: "Users",
        path: "/users",
        icon: "☰",
        permission: Permission::UsersManage,
        section: NavSection::Administration,
    },
    NavItem {
        label: "Audit log",
        path: "/audit",
        icon: "⌕",
        permission: Permission::AuditRead,
        section: NavSection::Administration,
    },
    NavItem {
        label: "Your account",
        path: "/profile",
        icon: "◌",
        permission: Permission::DashboardView,
        section: NavSection::Account,
    },
    NavItem {
        label: "API tokens",
        path: "/tokens",
        icon: "⚿",
        permission: Permission::ApiTokensOwn,
        section: NavSection::Account,
    },
];

/// The entries of `section` visible to a holder of `roles`, in menu order.
pub fn section_for(roles: &[Role], section: NavSection) -> Vec<NavItem> {
    NAV_ITEMS
        .iter()
        .copied()
        .filter(|item| item.section == section && roles_grant(roles, item.permission))
        .collect()
}

/// The sidebar entries visible to a holder of `roles`, in menu order.
pub fn nav_for(roles: &[Role]) -> Vec<NavItem> {
    NAV_ITEMS
        .iter()
        .copied()
        .filter(|item| item.section != NavSection::Account && roles_grant(roles, item.permission))
        .collect()
}

/// The administration pages behind the Administration overview: guarded like it, titled here.
pub const ADMIN_PAGES: &[(&str, &str)] = &[
    ("/admin/policies", "Approval policies"),
    ("/admin/webhooks", "Webhooks and e-mail"),
    ("/admin/terminal", "Terminal programs"),
    ("/admin/security", "Security"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_its_menu() {
        let labels = |r: Role| nav_for(&[r]).iter().map(|i| i.label).collect::<Vec<_>>();
        assert_eq!(
            labels(Role::Requester),
            vec![
                "Dashboard",
                "Requests",
                "Resources",
                "Teams",
                "Resource types"
            ]
        );
        let account = NAV_ITEMS
            .iter()
            .filter(|i| i.section == NavSection::Account)
            .count();
        assert_eq!(labels(Role::Admin).len(), NAV_ITEMS.len() - account);
        for role in Role::ALL {
            let mine = section_for(&[role], NavSection::Account);
            assert_eq!(
                mine.iter().map(|i| i.label).collect::<Vec<_>>(),
                vec!["Your account", "API tokens"],
                "{role}"
            );
        }
        assert!(!labels(Role::TechnicalAgent).contains(&"Approvals"));
    }

    #[test]
    fn projects_follow_scripts_for_whoever_manages_deployments() {
        let labels = |r: Role| nav_for(&[r]).iter().map(|i| i.label).collect::<Vec<_>>();
        for r in [Role::Admin, Role::TechnicalAgent] {
            let menu = labels(r);
            let scripts = menu.iter().position(|l| *l == "Scripts");
            let projects = menu.iter().position(|l| *l == "Projects");
            assert_eq!(projects, scripts.map(|s| s + 1), "{r}: {menu:?}");
        }
        for r in [Role::SalesAgent, Role::Requester] {
            assert!(!labels(r).contains(&"Projects"), "{r} sees Projects");
        }
    }

    #[test]
    fn deployments_follow_projects_for_whoever_manages_deployments() {
        let labels = |r: Role| nav_for(&[r]).iter().map(|i| i.label).collect::<Vec<_>>();
        for r in [Role::Admin, Role::TechnicalAgent] {
            let menu = labels(r);
            let projects = menu.iter().position(|l| *l == "Projects");
            let deployments = menu.iter().position(|l| *l == "Deployments");
            assert_eq!(deployments, projects.map(|p| p + 1), "{r}: {menu:?}");
        }
        for r in [Role::SalesAgent, Role::Requester] {
            assert!(!labels(r).contains(&"Deployments"), "{r} sees Deployments");
        }
    }

    #[test]
    fn clients_and_revenue_are_for_sales_agents_and_admins() {
        let labels = |r: Role| nav_for(&[r]).iter().map(|i| i.label).collect::<Vec<_>>();
        assert_eq!(
            labels(Role::SalesAgent),
            vec![
                "Dashboard",
                "Requests",
                "Resources",
                "Clients",
                "Revenue",
                "Teams",
                "Resource types"
            ]
        );
        let admin = labels(Role::Admin);
        let deployments = admin.iter().position(|l| *l == "Deployments");
        assert_eq!(
            admin.iter().position(|l| *l == "Clients"),
            deployments.map(|d| d + 1),
            "{admin:?}"
        );
        assert_eq!(
            admin.iter().position(|l| *l == "Revenue"),
            deployments.map(|d| d + 2),
            "{admin:?}"
        );
        for r in [Role::TechnicalAgent, Role::Requester] {
            let menu = labels(r);
            assert!(
                !menu.contains(&"Clients") && !menu.contains(&"Revenue"),
                "{r}: {menu:?}"
            );
        }
    }

    #[test]
    fn users_page_is_admin_only() {
        let labels = |r: Role| nav_for(&[r]).iter().map(|i| i.label).collect::<Vec<_>>();
        assert!(labels(Role::Admin).contains(&"Users"));
        for r in [Role::TechnicalAgent, Role::SalesAgent, Role::Requester] {
            assert!(!labels(r).contains(&"Users"), "{r} sees Users");
            assert!(labels(r).contains(&"Dashboard"));
        }
    }
}
