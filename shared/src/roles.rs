use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role a user holds. A user may hold several; their permissions are the union.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    TechnicalAgent,
    SalesAgent,
    Requester,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::TechnicalAgent,
        Role::SalesAgent,
        Role::Requester,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::TechnicalAgent => "technical_agent",
            Role::SalesAgent => "sales_agent",
            Role::Requester => "requester",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::TechnicalAgent => "Technical agent",
            Role::SalesAgent => "Sales agent",
            Role::Requester => "Requester",
        }
    }

    /// The one role → permission matrix. API guards and web navigation both read it.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => &Permission::ALL,
            Role::TechnicalAgent => &[
                DashboardView,
                TeamsRead,
                ResourceTypesRead,
                ResourcesRead,
                ResourcesFulfil,
                ResourceSecretsReveal,
                RequestsCreate,
                RequestsReadTeam,
                ServersRead,
                ServersOperate,
                ScriptsManage,
                ExecutionsRun,
                DeploymentsManage,
                ApiTokensOwn,
            ],
            Role::SalesAgent => &[
                DashboardView,
                TeamsRead,
                ResourceTypesRead,
                ResourcesRead,
                RequestsCreate,
                RequestsReadTeam,
                ClientsManage,
                SubscriptionsManage,
                RevenueRead,
                ApiTokensOwn,
            ],
            Role::Requester => &[
                DashboardView,
                TeamsRead,
                ResourceTypesRead,
                ResourcesRead,
                ResourceSecretsReveal,
                RequestsCreate,
                ApiTokensOwn,
            ],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown role `{}` (expected one of admin, technical_agent, sales_agent, requester)",
            self.0
        )
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What a caller may do. Handlers ask for a permission, never for a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    DashboardView,
    UsersManage,
    TeamsRead,
    TeamsManage,
    ResourceTypesRead,
    /// Create, change and retire resource types.
    ResourceTypesManage,
    /// See the managed resources of the caller's teams (requesters: their own).
    ResourcesRead,
    /// Set up resources fulfilled by hand and enter their connection details.
    ResourcesFulfil,
    /// Reveal and rotate a resource's password or key (each reveal is audited).
    ResourceSecretsReveal,
    RequestsCreate,
    /// Read every request of the caller's teams, not only their own.
    RequestsReadTeam,
    RequestsApprove,
    ServersRead,
    ServersOperate,
    ScriptsManage,
    ExecutionsRun,
    DeploymentsManage,
    ClientsManage,
    SubscriptionsManage,
    RevenueRead,
    ProvidersManage,
    AuditRead,
    ApiTokensOwn,
    /// See rows of every team, not only the caller's own.
    AllTeams,
}

impl Permission {
    pub const ALL: [Permission; 24] = [
        Permission::DashboardView,
        Permission::UsersManage,
        Permission::TeamsRead,
        Permission::TeamsManage,
        Permission::ResourceTypesRead,
        Permission::ResourceTypesManage,
        Permission::ResourcesRead,
        Permission::ResourcesFulfil,
        Permission::ResourceSecretsReveal,
        Permission::RequestsCreate,
        Permission::RequestsReadTeam,
        Permission::RequestsApprove,
        Permission::ServersRead,
        Permission::ServersOperate,
        Permission::ScriptsManage,
        Permission::ExecutionsRun,
        Permission::DeploymentsManage,
        Permission::ClientsManage,
        Permission::SubscriptionsManage,
        Permission::RevenueRead,
        Permission::ProvidersManage,
        Permission::AuditRead,
        Permission::ApiTokensOwn,
        Permission::AllTeams,
    ];
}

/// True when any of `roles` grants `permission`.
pub fn roles_grant(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| r.permissions().contains(&permission))
}

/// The sorted, de-duplicated union of the permissions of `roles`.
pub fn permissions_of(roles: &[Role]) -> Vec<Permission> {
    let mut all: Vec<Permission> = roles
        .iter()
        .flat_map(|r| r.permissions().iter().copied())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Parses the stored comma-separated role list; unknown names are an error, not ignored.
pub fn parse_role_list(s: &str) -> Result<Vec<Role>, UnknownRole> {
    let mut roles = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(Role::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

pub fn format_role_list(roles: &[Role]) -> String {
    let mut sorted = roles.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_holds_every_permission() {
        for p in Permission::ALL {
            assert!(roles_grant(&[Role::Admin], p), "admin lacks {p:?}");
        }
    }

    #[test]
    fn only_admin_manages_users_and_teams_and_sees_all_teams() {
        for role in [Role::TechnicalAgent, Role::SalesAgent, Role::Requester] {
            for p in [
                Permission::UsersManage,
                Permission::TeamsManage,
                Permission::AllTeams,
                Permission::RequestsApprove,
                Permission::AuditRead,
            ] {
                assert!(!roles_grant(&[role], p), "{role} must not hold {p:?}");
            }
        }
    }

    #[test]
    fn requester_cannot_operate_servers_or_see_revenue() {
        let r = [Role::Requester];
        assert!(roles_grant(&r, Permission::RequestsCreate));
        assert!(!roles_grant(&r, Permission::ServersOperate));
        assert!(!roles_grant(&r, Permission::RevenueRead));
        assert!(!roles_grant(&r, Permission::RequestsReadTeam));
    }

    #[test]
    fn permissions_are_the_union_of_roles() {
        let both = permissions_of(&[Role::SalesAgent, Role::TechnicalAgent]);
        assert!(both.contains(&Permission::RevenueRead));
        assert!(both.contains(&Permission::ServersOperate));
        assert!(!both.contains(&Permission::UsersManage));
    }

    #[test]
    fn role_list_round_trips_and_rejects_unknown_names() {
        let roles = parse_role_list("requester,admin,admin").unwrap();
        assert_eq!(roles, vec![Role::Admin, Role::Requester]);
        assert_eq!(format_role_list(&roles), "admin,requester");
        assert!(parse_role_list("admin,root").is_err());
        assert_eq!(parse_role_list("").unwrap(), Vec::<Role>::new());
    }

    #[test]
    fn permission_all_lists_every_variant_once() {
        let mut v = Permission::ALL.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), Permission::ALL.len());
    }
}
