//! Navigation entries of the web app, each guarded by a permission of the shared matrix,
//! so that what a role sees in the menu is exactly what the API lets it do.

use crate::roles::{roles_grant, Permission, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavItem {
    pub label: &'static str,
    pub path: &'static str,
    pub icon: &'static str,
    pub permission: Permission,
}

pub const NAV_ITEMS: &[NavItem] = &[
    NavItem {
        label: "Dashboard",
        path: "/",
        icon: "◧",
        permission: Permission::DashboardView,
    },
    NavItem {
        label: "Requests",
        path: "/requests",
        icon: "⧉",
        permission: Permission::RequestsCreate,
    },
    NavItem {
        label: "Approvals",
        path: "/approvals",
        icon: "✓",
        permission: Permission::RequestsApprove,
    },
    NavItem {
        label: "Servers",
        path: "/servers",
        icon: "▣",
        permission: Permission::ServersRead,
    },
    NavItem {
        label: "Scripts",
        path: "/scripts",
        icon: "❯",
        permission: Permission::ScriptsManage,
    },
    NavItem {
        label: "Projects",
        path: "/projects",
        icon: "⎇",
        permission: Permission::DeploymentsManage,
    },
    NavItem {
        label: "Deployments",
        path: "/deployments",
        icon: "⇪",
        permission: Permission::DeploymentsManage,
    },
    NavItem {
        label: "Clients",
        path: "/clients",
        icon: "◉",
        permission: Permission::ClientsManage,
    },
    NavItem {
        label: "Revenue",
        path: "/revenue",
        icon: "↗",
        permission: Permission::RevenueRead,
    },
    NavItem {
        label: "Teams",
        path: "/teams",
        icon: "◎",
        permission: Permission::TeamsRead,
    },
    NavItem {
        label: "Resource types",
        path: "/resource-types",
        icon: "▤",
        permission: Permission::ResourceTypesRead,
    },
    NavItem {
        label: "Providers",
        path: "/providers",
        icon: "☁",
        permission: Permission::ProvidersManage,
    },
    NavItem {
        label: "Users",
        path: "/users",
        icon: "☰",
        permission: Permission::UsersManage,
    },
    NavItem {
        label: "Audit log",
        path: "/audit",
        icon: "⌕",
        permission: Permission::AuditRead,
    },
    NavItem {
        label: "API tokens",
        path: "/tokens",
        icon: "⚿",
        permission: Permission::ApiTokensOwn,
    },
];

/// The navigation entries visible to a holder of `roles`, in menu order.
pub fn nav_for(roles: &[Role]) -> Vec<NavItem> {
    NAV_ITEMS
        .iter()
        .copied()
        .filter(|item| roles_grant(roles, item.permission))
        .collect()
}

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
                "Teams",
                "Resource types",
                "API tokens"
            ]
        );
        assert_eq!(labels(Role::Admin).len(), NAV_ITEMS.len());
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
                "Clients",
                "Revenue",
                "Teams",
                "Resource types",
                "API tokens"
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
