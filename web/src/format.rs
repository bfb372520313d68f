//! Human wording for dates, roles, permissions and categories.

use chrono::{DateTime, Datelike, Local, Timelike, Utc};
use shared::dto::ResourceCategory;
use shared::roles::{Permission, Role};

/// `2025-03-01 14:05` in the browser's time zone; hand-formatted to keep chrono's
/// format machinery out of the wasm.
pub fn datetime(dt: &DateTime<Utc>) -> String {
    let local = dt.with_timezone(&Local);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// `14:05:09` in the browser's time zone, for log lines.
pub fn clock(dt: &DateTime<Utc>) -> String {
    let local = dt.with_timezone(&Local);
    format!(
        "{:02}:{:02}:{:02}",
        local.hour(),
        local.minute(),
        local.second()
    )
}

pub fn date(dt: &DateTime<Utc>) -> String {
    let local = dt.with_timezone(&Local);
    format!(
        "{:04}-{:02}-{:02}",
        local.year(),
        local.month(),
        local.day()
    )
}

/// "5 minutes ago" for recent moments, the date for older ones.
pub fn relative(dt: &DateTime<Utc>) -> String {
    let secs = (Utc::now() - *dt).num_seconds();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        s if s < 0 => datetime(dt),
        0..=59 => "just now".into(),
        60..=3_599 => plural(secs / 60, "minute"),
        3_600..=86_399 => plural(secs / 3_600, "hour"),
        86_400..=604_799 => plural(secs / 86_400, "day"),
        _ => date(dt),
    }
}

/// How long something took: `45 s`, `3 min 05 s`, `2 h 07 min`.
pub fn duration(from: &DateTime<Utc>, to: &DateTime<Utc>) -> String {
    let secs = (*to - *from).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3_599 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3_600, secs % 3_600 / 60),
    }
}

/// Time until `dt`: "in 3 days", or "expired".
pub fn until(dt: &DateTime<Utc>) -> String {
    let secs = (*dt - Utc::now()).num_seconds();
    match secs {
        s if s <= 0 => "expired".into(),
        1..=3_599 => "in less than an hour".into(),
        3_600..=86_399 => format!("in {} h", secs / 3_600),
        _ => {
            let days = secs / 86_400;
            if days == 1 {
                "in 1 day".into()
            } else {
                format!("in {days} days")
            }
        }
    }
}

pub fn permission_text(p: Permission) -> &'static str {
    use Permission::*;
    match p {
        DashboardView => "See the dashboard",
        UsersManage => "Create, edit and deactivate user accounts",
        TeamsRead => "See your teams and their members",
        TeamsManage => "Create, edit and delete teams and manage members",
        ResourceTypesRead => "Browse the resource catalogue",
        ResourceTypesManage => "Add, change and retire resource types",
        ResourcesRead => "See your teams' managed resources",
        ResourcesFulfil => "Set up resources by hand and enter their connection",
        ResourceSecretsReveal => "Reveal and rotate resource passwords",
        RequestsCreate => "Request new resources",
        RequestsReadTeam => "Follow every request of your teams",
        RequestsApprove => "Approve or reject resource requests",
        ServersRead => "See servers and their state",
        ServersOperate => "Start, stop and operate servers",
        ScriptsManage => "Write and maintain provisioning scripts",
        ExecutionsRun => "Run scripts and playbooks",
        DeploymentsManage => "Manage deployments",
        ClientsManage => "Manage client accounts",
        SubscriptionsManage => "Manage client subscriptions",
        RevenueRead => "See revenue figures",
        ProvidersManage => "Configure infrastructure providers",
        AuditRead => "Read the audit log",
        ApiTokensOwn => "Create personal API tokens",
        AllTeams => "See the data of every team",
    }
}

pub fn role_summary(role: Role) -> &'static str {
    match role {
        Role::Admin => "You administer Provisio: accounts, teams and every team's resources.",
        Role::TechnicalAgent => {
            "You run the infrastructure: servers, provisioning scripts, executions and deployments for your teams."
        }
        Role::SalesAgent => {
            "You look after clients: their accounts, subscriptions and revenue, and request resources for them."
        }
        Role::Requester => {
            "You request the resources your team needs from the catalogue and follow their progress."
        }
    }
}

pub fn category_label(c: ResourceCategory) -> &'static str {
    match c {
        ResourceCategory::Storage => "Storage",
        ResourceCategory::Database => "Database",
        ResourceCategory::Bigdata => "Big data",
    }
}

pub fn role_class(role: Role) -> &'static str {
    match role {
        Role::Admin => "badge badge-admin",
        Role::TechnicalAgent => "badge badge-tech",
        Role::SalesAgent => "badge badge-sales",
        Role::Requester => "badge badge-requester",
    }
}

/// `€4.59/mo` from integer cents; never through a float.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let amount = format!("{}.{:02}", c / 100, c % 100);
    match currency {
        "EUR" => format!("{sign}€{amount}/mo"),
        "USD" => format!("{sign}${amount}/mo"),
        "GBP" => format!("{sign}£{amount}/mo"),
        other => format!("{sign}{amount} {other}/mo"),
    }
}

pub fn estimate(m: Option<&shared::billing::Money>) -> String {
    m.map(|m| money(m.cents, &m.currency))
        .unwrap_or_else(|| "—".into())
}

fn megabytes(mb: u32) -> String {
    if mb.is_multiple_of(1024) {
        format!("{} GB", mb / 1024)
    } else {
        format!("{mb} MB")
    }
}

/// `2 vCPU · 4 GB · 40 GB`: cores, memory, disk.
pub fn size(cpu: u32, ram_mb: u32, disk_gb: u32) -> String {
    format!("{cpu} vCPU · {} · {disk_gb} GB", megabytes(ram_mb))
}

/// `2 vCPU, 4 GB, 40 GB` for option labels.
pub fn size_list(cpu: u32, ram_mb: u32, disk_gb: u32) -> String {
    format!("{cpu} vCPU, {}, {disk_gb} GB", megabytes(ram_mb))
}

/// `2 vCPU · 2 GiB · 20 GB` for an inventory server; `—` when the size is not known
/// (registered hosts).
pub fn server_size(cpu: i32, ram_mb: i32, disk_gb: i32) -> String {
    if cpu <= 0 && ram_mb <= 0 && disk_gb <= 0 {
        return "—".into();
    }
    let ram = ram_mb.max(0);
    let ram = if ram % 1024 == 0 {
        format!("{} GiB", ram / 1024)
    } else {
        format!("{ram} MiB")
    };
    format!("{} vCPU · {ram} · {} GB", cpu.max(0), disk_gb.max(0))
}

pub fn person(u: &shared::requests::UserRef) -> String {
    if u.full_name.trim().is_empty() {
        u.username.clone()
    } else {
        u.full_name.clone()
    }
}

/// `EUR 49.90 · USD 12.00`: amounts of several currencies side by side (never added), or `—`.
pub fn amounts(list: &[shared::billing::Money]) -> String {
    if list.is_empty() {
        return "—".into();
    }
    list.iter()
        .map(shared::billing::Money::display)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// How often a plan renews: `monthly`, `every 3 months`, `yearly`.
pub fn period_text(months: u32) -> String {
    match months {
        1 => "monthly".into(),
        12 => "yearly".into(),
        n => format!("every {n} months"),
    }
}

/// A percentage with one decimal (`12.5%`), through integer tenths: no float formatting.
pub fn percent_tenths(value: f64) -> String {
    let tenths = (value * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let abs = tenths.unsigned_abs();
    format!("{sign}{}.{}%", abs / 10, abs % 10)
}

/// "15 min", "1 h 30 min", "45 s".
pub fn span(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let parts = [(h, "h"), (m, "min"), (s, "s")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect::<Vec<_>>();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// A status code as people read it, one casing everywhere: `PENDING` → "Pending",
/// `system_update` → "System update". The code itself stays in `data-status` for scripts.
pub fn status_label(code: &str) -> String {
    let words = code.replace('_', " ").to_lowercase();
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{span, status_label};

    #[test]
    fn statuses_read_in_one_casing() {
        assert_eq!(status_label("PENDING"), "Pending");
        assert_eq!(status_label("pending"), "Pending");
        assert_eq!(status_label("system_update"), "System update");
        assert_eq!(status_label(""), "");
    }

    #[test]
    fn spans_read_in_hours_minutes_and_seconds() {
        assert_eq!(span(900), "15 min");
        assert_eq!(span(5400), "1 h 30 min");
        assert_eq!(span(45), "45 s");
        assert_eq!(span(0), "0 s");
    }
}
