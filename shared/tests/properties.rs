//! Property tests for the pure rules in `shared`: the state machines (server requests,
//! deployments, subscription renewals), the validation parsers and money arithmetic.
//! Each property states something the code promises; the regression cases of the bugs they found
//! are kept as unit tests beside the code they fixed.

use proptest::prelude::*;

/// `prop_assert!` that names the failed condition even when it holds `format!` braces.
macro_rules! check {
    ($cond:expr) => {
        prop_assert!($cond, "{}", stringify!($cond))
    };
    ($cond:expr, $($message:tt)+) => {
        prop_assert!($cond, $($message)+)
    };
}

mod request_workflow {
    use super::*;
    use shared::workflow::{allowed_actions, transition, RequestAction, RequestStatus, Viewer};
    use shared::{roles::roles_grant, Permission, Role};

    const ACTIONS: [RequestAction; 7] = [
        RequestAction::Approve,
        RequestAction::Reject,
        RequestAction::Cancel,
        RequestAction::StartProvisioning,
        RequestAction::MarkDeployed,
        RequestAction::MarkFailed,
        RequestAction::Retry,
    ];
    const WORKER_ACTIONS: [RequestAction; 3] = [
        RequestAction::StartProvisioning,
        RequestAction::MarkDeployed,
        RequestAction::MarkFailed,
    ];

    fn status() -> impl Strategy<Value = RequestStatus> {
        proptest::sample::select(RequestStatus::ALL.to_vec())
    }

    fn action() -> impl Strategy<Value = RequestAction> {
        proptest::sample::select(ACTIONS.to_vec())
    }

    fn roles() -> impl Strategy<Value = Vec<Role>> {
        proptest::sample::subsequence(Role::ALL.to_vec(), 0..=Role::ALL.len())
    }

    proptest! {
        /// Any sequence of actions, legal or not, leaves a request in a known status; refused
        /// actions change nothing, and once terminal the request never moves again.
        #[test]
        fn every_action_sequence_keeps_a_legal_status(actions in prop::collection::vec(action(), 0..40)) {
            let mut current = RequestStatus::Pending;
            let mut terminal_since: Option<RequestStatus> = None;
            for action in actions {
                if let Some(next) = transition(current, action) {
                    check!(RequestStatus::ALL.contains(&next));
                    check!(terminal_since.is_none(), "{current:?} is terminal yet {action:?} moved it");
                    prop_assert_ne!(next, RequestStatus::Pending, "nothing leads back to pending");
                    current = next;
                }
                if current.is_terminal() {
                    terminal_since = Some(current);
                }
            }
        }

        /// Terminal statuses accept no action at all.
        #[test]
        fn terminal_statuses_accept_nothing(from in status(), action in action()) {
            if from.is_terminal() {
                prop_assert_eq!(transition(from, action), None);
            }
        }

        /// From every status a terminal one stays reachable (no request can get stuck forever).
        #[test]
        fn a_terminal_status_is_always_reachable(from in status()) {
            let mut seen = vec![from];
            let mut frontier = vec![from];
            while let Some(s) = frontier.pop() {
                for a in ACTIONS {
                    if let Some(next) = transition(s, a) {
                        if !seen.contains(&next) {
                            seen.push(next);
                            frontier.push(next);
                        }
                    }
                }
            }
            check!(seen.iter().any(|s| s.is_terminal()), "{from:?} reaches only {seen:?}");
        }

        /// The buttons a viewer sees are exactly the actions that would succeed for them: each one
        /// is a legal transition, the worker's own actions are never offered, approving and
        /// rejecting follow the approval policy, cancelling is the requester's or an approver's,
        /// retrying needs ServersOperate.
        #[test]
        fn offered_actions_are_exactly_the_ones_that_succeed(
            from in status(),
            roles in roles(),
            is_requester in any::<bool>(),
            may_approve in any::<bool>(),
        ) {
            let viewer = Viewer { roles: &roles, is_requester, may_approve };
            let offered = allowed_actions(from, &viewer);
            for a in ACTIONS {
                let permitted = match a {
                    RequestAction::Approve | RequestAction::Reject => may_approve,
                    RequestAction::Cancel => {
                        is_requester || roles_grant(&roles, Permission::RequestsApprove)
                    }
                    RequestAction::Retry => roles_grant(&roles, Permission::ServersOperate),
                    _ => false,
                };
                let succeeds = transition(from, a).is_some() && permitted;
                prop_assert_eq!(offered.contains(&a), succeeds, "{:?} from {:?} for {:?}", a, from, roles);
            }
            check!(WORKER_ACTIONS.iter().all(|a| !offered.contains(a)));
            let mut deduped = offered.clone();
            deduped.dedup();
            prop_assert_eq!(deduped, offered);
        }

        /// Status names round-trip through `as_str`/`parse` and serde, and nothing else parses.
        #[test]
        fn status_names_round_trip_and_nothing_else_parses(s in status(), text in ".{0,20}") {
            prop_assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            prop_assert_eq!(&json, &format!("\"{}\"", s.as_str()));
            prop_assert_eq!(serde_json::from_str::<RequestStatus>(&json).unwrap(), s);
            let known = RequestStatus::ALL.iter().any(|k| k.as_str() == text);
            prop_assert_eq!(RequestStatus::parse(&text).is_some(), known);
        }

        /// The stored role list round-trips, sorted and without duplicates.
        #[test]
        fn role_lists_round_trip(roles in prop::collection::vec(proptest::sample::select(Role::ALL.to_vec()), 0..8)) {
            let mut expected = roles.clone();
            expected.sort();
            expected.dedup();
            let stored = shared::roles::format_role_list(&roles);
            prop_assert_eq!(shared::roles::parse_role_list(&stored).unwrap(), expected);
        }
    }
}

mod deployments {
    use super::*;
    use shared::deployments::{
        next_status, user_actions, DeploymentAction as A, DeploymentStatus as S,
    };

    const ACTIONS: [A; 10] = [
        A::StartProvisioning,
        A::StartDeploying,
        A::MarkRunning,
        A::MarkFailed,
        A::Stop,
        A::Start,
        A::Redeploy,
        A::Delete,
        A::MarkDeleted,
        A::Discard,
    ];
    const USER_ACTIONS: [A; 5] = [A::Stop, A::Start, A::Redeploy, A::Delete, A::Discard];

    fn status() -> impl Strategy<Value = S> {
        proptest::sample::select(S::ALL.to_vec())
    }

    fn action() -> impl Strategy<Value = A> {
        proptest::sample::select(ACTIONS.to_vec())
    }

    proptest! {
        /// Any sequence of actions keeps a deployment in a known status; Deleted is final and
        /// nothing leads back to Pending.
        #[test]
        fn every_action_sequence_keeps_a_legal_status(actions in prop::collection::vec(action(), 0..60)) {
            let mut current = S::Pending;
            for action in actions {
                if let Some(next) = next_status(current, action) {
                    prop_assert_ne!(current, S::Deleted, "{:?} left Deleted", action);
                    prop_assert_ne!(next, S::Pending);
                    check!(S::ALL.contains(&next));
                    current = next;
                }
            }
        }

        /// Deleted accepts nothing; every other status can still reach Deleted (a deployment can
        /// always be cleaned up), so Deleted is the only dead end.
        #[test]
        fn deleted_is_the_only_dead_end(from in status(), action in action()) {
            if from == S::Deleted {
                prop_assert_eq!(next_status(from, action), None);
            } else {
                let mut seen = vec![from];
                let mut frontier = vec![from];
                while let Some(s) = frontier.pop() {
                    for a in ACTIONS {
                        if let Some(n) = next_status(s, a) {
                            if !seen.contains(&n) {
                                seen.push(n);
                                frontier.push(n);
                            }
                        }
                    }
                }
                check!(seen.contains(&S::Deleted), "{:?} reaches only {:?}", from, seen);
            }
        }

        /// The buttons are exactly the user actions that succeed; none is offered while work is
        /// under way, and each one leads somewhere else.
        #[test]
        fn buttons_are_exactly_the_user_actions_that_succeed(from in status()) {
            let offered = user_actions(from);
            for a in USER_ACTIONS {
                prop_assert_eq!(offered.contains(&a), next_status(from, a).is_some(), "{:?} {:?}", from, a);
            }
            check!(offered.iter().all(|a| USER_ACTIONS.contains(a)));
            // Work under way offers nothing, except giving up a deployment still waiting.
            if from == S::Pending {
                check!(offered == [A::Discard], "{:?} offers {:?}", from, offered);
            } else if from.is_busy() || from == S::Deleted {
                check!(offered.is_empty(), "{:?} offers {:?}", from, offered);
            }
            for a in offered {
                prop_assert_ne!(next_status(from, a), Some(from));
            }
        }

        /// Busy and deleted deployments are never counted twice: Deleted is neither busy nor
        /// active, and every status that is not active is failed or on its way out.
        #[test]
        fn busy_and_active_flags_agree(s in status()) {
            if s == S::Deleted {
                check!(!s.is_busy() && !s.is_active());
            }
            if !s.is_active() {
                check!(matches!(s, S::Failed | S::Deleting | S::Deleted));
            }
        }

        /// Status names parse in any letter case, serialize upper case, and nothing else parses.
        #[test]
        fn status_names_round_trip_in_any_case(s in status(), flips in prop::collection::vec(any::<bool>(), 12), text in ".{0,16}") {
            let mixed: String = s.as_str().chars().zip(flips.iter().cycle())
                .map(|(c, lower)| if *lower { c.to_ascii_lowercase() } else { c })
                .collect();
            prop_assert_eq!(S::parse(&mixed), Some(s));
            prop_assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
            let known = S::ALL.iter().any(|k| k.as_str().eq_ignore_ascii_case(&text));
            prop_assert_eq!(S::parse(&text).is_some(), known);
        }
    }
}

mod parsers {
    use super::*;
    use shared::deployments::{commit_sha, deployment_name, env_name, module_name};
    use shared::projects::{branch_name, git_url};
    use shared::requests::{hostname, ssh_public_key};
    use shared::servers::{address, labels};
    use shared::terminal::{program_name, split_command_line, TerminalSettings};
    use shared::validation::{display_text, email, password, slugify, username};
    use std::collections::BTreeMap;

    /// Every parser, fed anything: it answers (never panics) and a refusal explains itself.
    fn all_parsers(s: &str) -> Vec<Result<(), String>> {
        vec![
            deployment_name(s),
            commit_sha(s),
            module_name(s),
            env_name(s),
            git_url(s),
            branch_name(s),
            hostname(s),
            ssh_public_key(s),
            address(s),
            program_name(s),
            username(s),
            email(s),
            password(s),
            display_text(s, 2, 80),
            shared::billing::currency_code(s),
            shared::billing::parse_amount(s).map(|_| ()),
            shared::scripts::variable_name(s),
        ]
    }

    proptest! {
        #[test]
        fn parsers_never_panic_and_refusals_say_why(s in any::<String>()) {
            for result in all_parsers(&s) {
                if let Err(message) = result {
                    check!(!message.trim().is_empty());
                }
            }
            let _ = split_command_line(&s);
            let _ = shared::scripts::error_line(&s);
            let _ = shared::frameworks::RepoFacts::new(&[&s], Some(&s), Some(&s), Some(&s));
        }

        #[test]
        fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let s = String::from_utf8_lossy(&bytes);
            for result in all_parsers(&s) {
                let _ = result;
            }
        }

        // ---- deployments ----

        #[test]
        fn deployment_names_follow_their_grammar(name in "[a-z][a-z0-9-]{0,38}[a-z0-9]", bad in "[^a-z0-9-]", at in any::<prop::sample::Index>()) {
            prop_assert_eq!(deployment_name(&name), Ok(()));
            let mut chars: Vec<char> = name.chars().collect();
            let i = at.index(chars.len());
            chars[i] = bad.chars().next().unwrap();
            let broken: String = chars.into_iter().collect();
            check!(deployment_name(&broken).is_err(), "{broken}");
            check!(deployment_name(&format!("{name}-")).is_err());
            check!(deployment_name(&format!("1{name}")).is_err());
            check!(deployment_name(&format!("{name}{}", "a".repeat(41 - name.len()))).is_err());
        }

        #[test]
        fn commits_are_7_to_40_hex_digits(sha in "[0-9a-fA-F]{7,40}", short in "[0-9a-f]{0,6}", long in "[0-9a-f]{41,60}", bad in "[^0-9a-fA-F]") {
            prop_assert_eq!(commit_sha(&sha), Ok(()));
            check!(commit_sha(&short).is_err());
            check!(commit_sha(&long).is_err());
            check!(commit_sha(&format!("{}{bad}", &sha[..6])).is_err());
        }

        /// A module never reads as an option and never leaves the checkout.
        #[test]
        fn modules_stay_inside_the_checkout(module in "[a-zA-Z0-9_][a-zA-Z0-9_-]{0,20}(/[a-zA-Z0-9_][a-zA-Z0-9_-]{0,10}){0,3}(\\.[a-z]{1,4})?", any_text in ".{0,40}") {
            prop_assert_eq!(module_name(&module), Ok(()));
            for prefix in ["-", ".", "/", "../"] {
                check!(module_name(&format!("{prefix}{module}")).is_err());
            }
            check!(module_name(&format!("{module}/../x")).is_err());
            if module_name(&any_text).is_ok() {
                check!(!any_text.starts_with(['-', '.', '/']) && !any_text.contains(".."));
                check!(!any_text.chars().any(|c| c.is_whitespace() || c == ';' || c == '$'));
            }
        }

        #[test]
        fn env_names_are_upper_case_identifiers(name in "[A-Z_][A-Z0-9_]{0,63}", bad in "[a-z .=$-]") {
            prop_assert_eq!(env_name(&name), Ok(()));
            check!(env_name(&format!("{name}{bad}")).is_err());
            check!(env_name(&format!("9{name}")).is_err());
            let err = env_name(&format!("{name}{bad}")).unwrap_err();
            check!(err.contains(&name), "the message names the variable: {}", err);
        }

        // ---- Git URLs and branches ----

        #[test]
        fn well_formed_git_urls_are_accepted(
            host in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,3}",
            path in "[a-zA-Z0-9_][a-zA-Z0-9_.~-]{0,20}(/[a-zA-Z0-9_][a-zA-Z0-9_.~-]{0,20}){0,3}",
            user in "[a-z_][a-z0-9_.-]{0,15}",
            port in 1u16..,
        ) {
            for url in [
                format!("https://{host}/{path}"),
                format!("https://{host}:{port}/{path}"),
                format!("ssh://{host}/{path}"),
                format!("ssh://{user}@{host}:{port}/{path}"),
                format!("{user}@{host}:{path}"),
            ] {
                prop_assert_eq!(git_url(&url), Ok(()), "{}", url);
            }
        }

        /// Other transports, local paths, credentials, options and spaces are refused with a
        /// message, however the rest of the URL looks.
        #[test]
        fn dangerous_git_urls_are_refused(
            host in "[a-z0-9]{1,10}(\\.[a-z]{2,5})?",
            path in "[a-z0-9]{1,10}(/[a-z0-9]{1,10}){0,2}",
            scheme in prop::sample::select(vec!["file", "git", "http", "ftp", "ext", "fd", "HTTPS", "ssh+git"]),
            space in prop::sample::select(vec![" ", "\t", "\n", "\r", "\0"]),
        ) {
            for url in [
                format!("{scheme}://{host}/{path}"),
                format!("{scheme}::{host}/{path}"),
                format!("/{path}"),
                format!("./{path}"),
                format!("-{host}:{path}"),
                format!("https://user:secret@{host}/{path}"),
                format!("https://{host}/{path}{space}--upload-pack=x"),
                format!("ssh://-o{host}/{path}"),
                format!("ssh://git@{host}/../{path}"),
                format!("git@{host}:-{path}"),
                format!("https://{host}/-{path}"),
                format!("https://{host}"),
            ] {
                let refused = git_url(&url);
                check!(refused.is_err(), "{:?} was accepted", url);
            }
        }

        /// Whatever is accepted is an https or ssh URL (or the scp-like ssh form) whose host git
        /// cannot read as an option: a bracketed host must be an IPv6 address.
        #[test]
        fn accepted_git_urls_have_a_safe_host(url in "(https://|ssh://|[a-z]{1,4}@)?\\[?[-a-z0-9:;=.$()]{0,16}\\]?(:[0-9]{1,5})?[/:][a-z0-9./-]{0,12}") {
            if git_url(&url).is_ok() {
                let after_scheme = url.strip_prefix("https://").or_else(|| url.strip_prefix("ssh://"));
                let authority = match after_scheme {
                    Some(rest) => rest.split('/').next().unwrap_or(""),
                    None => url.split(':').next().unwrap_or(""),
                };
                let host_port = authority.rsplit('@').next().unwrap_or("");
                if let Some(inner) = host_port.strip_prefix('[') {
                    let inner = &inner[..inner.find(']').expect("a closing bracket")];
                    check!(inner.parse::<std::net::Ipv6Addr>().is_ok(), "host [{}] in {:?}", inner, url);
                } else {
                    check!(!host_port.starts_with('-') && !host_port.is_empty(), "{:?}", url);
                }
            }
        }

        #[test]
        fn bracketed_ipv6_hosts_are_accepted(addr in any::<std::net::Ipv6Addr>(), port in 1u16..) {
            let url = format!("https://[{addr}]:{port}/team/app.git");
            prop_assert_eq!(git_url(&url), Ok(()), "{}", url);
            let url = format!("ssh://git@[{addr}]/team/app.git");
            prop_assert_eq!(git_url(&url), Ok(()), "{}", url);
        }

        /// Branch names are accepted exactly when `git check-ref-format --branch` would take them
        /// (within the characters Provisio allows): the model below is git's documented rules.
        #[test]
        fn branch_names_are_exactly_the_ones_git_accepts(name in "[a-zA-Z0-9./_-]{0,30}") {
            let git_accepts = !name.is_empty()
                && name != "HEAD"
                && !name.starts_with('-')
                && !name.contains("..")
                && !name.ends_with('.')
                && name.split('/').all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"));
            prop_assert_eq!(branch_name(&name).is_ok(), git_accepts, "{:?}", name);
        }

        // ---- hosts, addresses, labels ----

        #[test]
        fn rfc_1123_host_names_are_accepted(labels in prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", 1..4)) {
            let name = labels.join(".");
            prop_assume!(name.len() <= 253);
            prop_assert_eq!(hostname(&name), Ok(()));
            prop_assert_eq!(address(&name), Ok(()));
            check!(hostname(&format!("-{name}")).is_err());
            check!(hostname(&format!("{name}-")).is_err());
            check!(hostname(&format!("{name}..x")).is_err());
            check!(hostname(&format!("{name}.{}", "a".repeat(64))).is_err());
            check!(hostname(&format!("{name}_x")).is_err());
            check!(address(&format!("-{name}")).is_err());
        }

        #[test]
        fn ip_addresses_are_addresses(ip in any::<std::net::IpAddr>()) {
            prop_assert_eq!(address(&ip.to_string()), Ok(()));
        }

        #[test]
        fn accepted_addresses_are_never_options(s in "[-a-z0-9.:]{0,20}") {
            if address(&s).is_ok() {
                check!(!s.starts_with('-') && !s.is_empty());
            }
        }

        #[test]
        fn labels_follow_their_grammar(
            map in prop::collection::btree_map("[a-z0-9][a-z0-9._/-]{0,62}", "([a-z0-9][a-z0-9._/-]{0,62})?", 0..=32),
            bad in "[ =;\"']",
        ) {
            prop_assert_eq!(labels(&map), Ok(()));
            let mut broken = map.clone();
            broken.insert(format!("k{bad}"), "v".into());
            check!(labels(&broken).is_err());
            let mut too_many: BTreeMap<String, String> = map.clone();
            for i in 0..33 {
                too_many.insert(format!("extra{i}"), String::new());
            }
            check!(labels(&too_many).is_err());
        }

        // ---- accounts ----

        #[test]
        fn usernames_and_emails_follow_their_grammar(
            user in "[a-z0-9][a-z0-9._-]{2,31}",
            local in "[a-zA-Z0-9._%+-]{1,30}",
            domain in "[a-z0-9]{1,20}(\\.[a-z0-9]{1,10}){1,3}",
        ) {
            prop_assert_eq!(username(&user), Ok(()));
            check!(username(&user.to_uppercase()).is_err() || user.to_uppercase() == user);
            check!(username(&format!("{user} x")).is_err());
            let address = format!("{local}@{domain}");
            prop_assert_eq!(email(&address), Ok(()));
            check!(email(&format!("{local}@{domain}.")).is_err());
            check!(email(&format!("{local} @{domain}")).is_err());
            check!(email(&local).is_err(), "no domain: {}", local);
            check!(email(&format!("@{domain}")).is_err());
        }

        /// Passwords count characters, not bytes: 12 to 128 of any kind.
        #[test]
        fn password_bounds_count_characters(p in prop::collection::vec(any::<char>(), 0..140)) {
            let text: String = p.iter().collect();
            prop_assert_eq!(password(&text).is_ok(), (12..=128).contains(&p.len()));
        }

        #[test]
        fn display_text_counts_trimmed_characters(core in "[^\\p{Cc}\\s][^\\p{Cc}]{0,8}[^\\p{Cc}\\s]|[^\\p{Cc}\\s]", pad in "[ \n\t]{0,3}") {
            let text = format!("{pad}{core}{pad}");
            let len = core.chars().count();
            prop_assert_eq!(display_text(&text, len, len), Ok(()));
            check!(display_text(&text, len + 1, len + 5).is_err());
            check!(display_text(&format!("{text}\u{7}"), 0, 100).is_err());
        }

        /// Slugs are lower-case words joined by single hyphens, and slugifying twice changes nothing.
        #[test]
        fn slugs_are_clean_and_stable(name in ".{0,40}") {
            let slug = slugify(&name);
            check!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            check!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"), "{:?}", slug);
            prop_assert_eq!(slugify(&slug), slug.clone());
        }

        #[test]
        fn ssh_public_keys_need_a_known_type_and_base64(
            kind in prop::sample::select(vec!["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com"]),
            data in "[A-Za-z0-9+/]{32,200}={0,2}",
            comment in "[a-z@.]{0,20}",
        ) {
            prop_assert_eq!(ssh_public_key(&format!("{kind} {data} {comment}")), Ok(()));
            check!(ssh_public_key(&format!("ssh-dss {data}")).is_err());
            check!(ssh_public_key(&format!("{kind} {data}!")).is_err());
            check!(ssh_public_key(&format!("{kind} {data}\n{kind} {data}")).is_err());
        }

        // ---- terminals and scripts ----

        /// Any argv, quoted the way a shell would, splits back into the same argv.
        #[test]
        fn command_lines_round_trip(argv in prop::collection::vec(".{0,12}", 0..6), sep in "[ \t]{1,3}") {
            let quoted: Vec<String> = argv.iter().map(|w| format!("'{}'", w.replace('\'', "'\\''"))).collect();
            prop_assert_eq!(split_command_line(&quoted.join(&sep)), Ok(argv.clone()));
        }

        /// Shell syntax is ordinary text: nothing is expanded, so the words are the characters typed.
        #[test]
        fn command_lines_expand_nothing(words in prop::collection::vec("[a-z0-9$*|;&<>(){}`~=/.-]{1,10}", 1..6)) {
            prop_assert_eq!(split_command_line(&words.join(" ")), Ok(words.clone()));
        }

        #[test]
        fn terminals_start_only_listed_programs(
            allowed in prop::collection::vec("[a-z][a-z0-9_+-]{0,15}", 0..6),
            program in "[a-z][a-z0-9_+-]{0,15}",
            args in prop::collection::vec(".{0,8}", 0..3),
        ) {
            let settings = TerminalSettings { allowed_commands: allowed.clone(), idle_timeout_secs: 60 };
            prop_assert_eq!(settings.validate(), Ok(()));
            let mut argv = vec![program.clone()];
            argv.extend(args);
            prop_assert_eq!(settings.permits(&argv).is_ok(), allowed.contains(&program));
            let path = vec![format!("/usr/bin/{program}")];
            check!(settings.permits(&path).is_err());
            check!(settings.permits(&[]).is_err());
        }

        #[test]
        fn program_names_are_never_paths_or_options(name in ".{0,20}") {
            if program_name(&name).is_ok() {
                check!(!name.contains('/') && !name.starts_with('-') && !name.starts_with('.'));
            }
        }

        #[test]
        fn script_error_lines_round_trip(line in any::<usize>(), rest in ".{0,20}") {
            prop_assert_eq!(shared::scripts::error_line(&format!("line {line}: {rest}")), Some(line));
        }

        #[test]
        fn variable_names_are_lower_case_identifiers(name in "[a-z_][a-z0-9_]{0,63}") {
            let reserved = name.starts_with("ansible_") || name.starts_with("provisio_");
            if !reserved {
                // A few plain names are reserved too; those must be refused for that reason.
                match shared::scripts::variable_name(&name) {
                    Ok(()) => {}
                    Err(message) => check!(message.contains("reserved"), "{}: {}", name, message),
                }
            } else {
                check!(shared::scripts::variable_name(&name).is_err());
            }
            check!(shared::scripts::variable_name(&format!("{name}A")).is_err());
            check!(shared::scripts::variable_name(&format!("1{name}")).is_err());
        }
    }
}

mod frameworks {
    use super::*;
    use shared::frameworks::{detect, Detection, Framework, RepoFacts};

    fn framework(i: usize, priority: i32, all: Vec<String>, any: Vec<String>) -> Framework {
        Framework {
            slug: format!("f{i}"),
            name: format!("F{i}"),
            runtime: "node".into(),
            default_port: 3000,
            health_path: "/".into(),
            install: vec![],
            build: vec![],
            start: vec![],
            default_module: None,
            static_dir: None,
            services: vec![],
            detect: Detection { priority, all, any },
        }
    }

    fn signal() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "file:manage.py",
            "file:index.html",
            "node:react",
            "node:next",
            "node:express",
            "python:django",
            "python:flask",
            "php:laravel/framework",
        ])
        .prop_map(String::from)
    }

    proptest! {
        /// Detection picks a framework whose signals are all present, and none that matches has
        /// a higher priority; nothing is detected when nothing matches.
        #[test]
        fn detection_picks_the_highest_priority_match(
            specs in prop::collection::vec((-5i32..5, prop::collection::vec(signal(), 0..3), prop::collection::vec(signal(), 0..3)), 0..8),
            files in prop::collection::vec(prop::sample::select(vec!["manage.py", "index.html", "README.md"]), 0..3),
            node in prop::collection::vec(prop::sample::select(vec!["react", "next", "express"]), 0..3),
            python in prop::collection::vec(prop::sample::select(vec!["Django>=4.2", "flask", "# flask", "-r base.txt"]), 0..3),
        ) {
            let frameworks: Vec<Framework> = specs.into_iter().enumerate()
                .map(|(i, (p, all, any))| framework(i, p, all, any)).collect();
            let package_json = serde_json::json!({
                "dependencies": node.iter().map(|n| (n.to_string(), serde_json::json!("1"))).collect::<serde_json::Map<_, _>>()
            }).to_string();
            let facts = RepoFacts::new(&files, Some(&package_json), Some(&python.join("\n")), None);
            let present = |s: &String| {
                let (kind, name) = s.split_once(':').unwrap();
                match kind {
                    "file" => files.contains(&name),
                    "node" => node.contains(&name),
                    "python" => python.iter().any(|l| !l.starts_with(['#', '-']) && l.to_lowercase().starts_with(name)),
                    _ => false,
                }
            };
            let matches = |f: &Framework| {
                (!f.detect.all.is_empty() || !f.detect.any.is_empty())
                    && f.detect.all.iter().all(present)
                    && (f.detect.any.is_empty() || f.detect.any.iter().any(present))
            };
            match detect(&frameworks, &facts) {
                None => check!(!frameworks.iter().any(matches)),
                Some(found) => {
                    check!(matches(found), "{} does not match", found.slug);
                    check!(frameworks.iter().filter(|f| matches(f)).all(|f| f.detect.priority <= found.detect.priority));
                }
            }
        }

        /// Placeholders are filled in every argument and the argv keeps its length (a module or
        /// port never splits into more arguments).
        #[test]
        fn start_commands_keep_their_shape(module in "[a-z][a-z0-9_./-]{0,10}", port in any::<u16>(), args in prop::collection::vec("[a-z:]{0,4}(\\{port\\}|\\{module\\})?[a-z]{0,3}", 0..5)) {
            let mut f = framework(0, 0, vec![], vec![]);
            f.start = args.clone();
            let argv = f.start_command(&module, port);
            prop_assert_eq!(argv.len(), args.len());
            for (filled, template) in argv.iter().zip(&args) {
                check!(!filled.contains("{port}") && !filled.contains("{module}"));
                prop_assert_eq!(filled, &template.replace("{port}", &port.to_string()).replace("{module}", &module));
            }
        }
    }
}

mod money {
    use super::*;
    use shared::billing::{
        add_to, parse_amount, prorate, prorate_span, revenue_by_month, totals_list, Billed, Money,
        Totals,
    };

    fn currency() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["EUR", "USD", "CHF"]).prop_map(String::from)
    }

    /// Any amount, with the extremes and the values around zero drawn far more often than chance.
    fn cents() -> impl Strategy<Value = i64> {
        prop_oneof![
            4 => any::<i64>(),
            1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX]),
            1 => (i64::MAX - 1000..=i64::MAX).prop_map(|c| if c % 2 == 0 { c } else { -c }),
        ]
    }

    fn money() -> impl Strategy<Value = Money> {
        (cents(), currency()).prop_map(|(cents, c)| Money::new(cents, &c))
    }

    proptest! {
        /// Sums are exact: the result is the mathematical sum when it fits in i64 cents, a clear
        /// error when it does not, never a wrapped value or a panic.
        #[test]
        fn sums_are_exact_or_refused(a in cents(), b in cents(), c in currency()) {
            let exact = i128::from(a) + i128::from(b);
            match Money::new(a, &c).checked_add(&Money::new(b, &c)) {
                Ok(sum) => {
                    prop_assert_eq!(i128::from(sum.cents), exact);
                    prop_assert_eq!(sum.currency, c.clone());
                }
                Err(message) => {
                    check!(i64::try_from(exact).is_err());
                    check!(message.contains("too large"));
                }
            }
            let difference = i128::from(a) - i128::from(b);
            match Money::new(a, &c).checked_sub(&Money::new(b, &c)) {
                Ok(d) => prop_assert_eq!(i128::from(d.cents), difference),
                Err(_) => check!(i64::try_from(difference).is_err()),
            }
        }

        /// Two currencies never add up or subtract, whatever the amounts.
        #[test]
        fn currencies_never_mix(a in money(), b in money()) {
            prop_assume!(a.currency != b.currency);
            check!(a.checked_add(&b).is_err());
            check!(a.checked_sub(&b).is_err());
            check!(b.checked_add(&a).is_err());
        }

        #[test]
        fn addition_commutes(a in cents(), b in cents(), c in currency()) {
            let (x, y) = (Money::new(a, &c), Money::new(b, &c));
            prop_assert_eq!(x.checked_add(&y), y.checked_add(&x));
        }

        /// Totals keep one exact sum per currency, in any order, and refuse (instead of wrapping
        /// or panicking) a total that no longer fits.
        #[test]
        fn totals_are_exact_per_currency(items in prop::collection::vec(money(), 0..20), big in any::<bool>()) {
            let items: Vec<Money> = if big { items } else {
                items.into_iter().map(|m| Money::new(m.cents / 1_000_000, &m.currency)).collect()
            };
            let mut expected: std::collections::BTreeMap<String, i128> = Default::default();
            for m in &items {
                *expected.entry(m.currency.clone()).or_default() += i128::from(m.cents);
            }
            let mut totals = Totals::new();
            let mut refused = false;
            for m in &items {
                if add_to(&mut totals, m).is_err() {
                    refused = true;
                    break;
                }
            }
            let fits = expected.values().all(|v| i64::try_from(*v).is_ok());
            if refused {
                // A running sum left i64; it may come back later, but refusing early is the
                // safe answer only when some prefix overflowed.
                let mut running: std::collections::BTreeMap<String, i128> = Default::default();
                let mut overflowed = false;
                for m in &items {
                    let v = running.entry(m.currency.clone()).or_default();
                    *v += i128::from(m.cents);
                    overflowed |= i64::try_from(*v).is_err();
                }
                check!(overflowed);
            } else {
                check!(fits);
                let listed = totals_list(&totals);
                prop_assert_eq!(listed.len(), expected.len());
                for m in listed {
                    prop_assert_eq!(i128::from(m.cents), expected[&m.currency]);
                }
            }
        }

        /// `display` and `parse_amount` agree: the shown amount parses back to the same cents.
        #[test]
        fn displayed_amounts_parse_back(amount in cents(), c in currency()) {
            let shown = Money::new(amount, &c).display();
            let sign = if amount < 0 { "-" } else { "" };
            let number = shown.strip_prefix(&format!("{sign}{c} ")).expect("sign and currency first");
            let digits = number.replace(',', "");
            match parse_amount(&digits) {
                Ok(parsed) => prop_assert_eq!(i128::from(parsed), i128::from(amount).abs()),
                // Only i64::MIN has a magnitude no positive amount can hold.
                Err(_) => prop_assert_eq!(amount, i64::MIN),
            }
            let (units, fraction) = number.split_once('.').unwrap();
            prop_assert_eq!(fraction.len(), 2);
            for (i, group) in units.split(',').enumerate() {
                check!(if i == 0 { (1..=3).contains(&group.len()) } else { group.len() == 3 });
            }
        }

        /// Amounts are digits with an optional `.` or `,` and at most two decimals; everything
        /// else (signs, exponents, three decimals, spaces inside) is refused, never rounded.
        #[test]
        fn amounts_parse_exactly_what_their_grammar_says(units in 0u64..=92_233_720_368_547_757, fraction in "[0-9]{0,2}", sep in "[.,]", text in ".{0,12}") {
            let written = if fraction.is_empty() { units.to_string() } else { format!("{units}{sep}{fraction}") };
            let expected = i128::from(units) * 100 + format!("{fraction:0<2}").parse::<i128>().unwrap();
            prop_assert_eq!(i128::from(parse_amount(&written).unwrap()), expected);
            prop_assert_eq!(parse_amount(&format!(" {written} ")), parse_amount(&written));
            check!(parse_amount(&format!("{units}{sep}{fraction:0<2}1")).is_err(), "three decimals");
            check!(parse_amount(&format!("-{written}")).is_err());
            check!(parse_amount(&format!("+{written}")).is_err());
            check!(parse_amount(&format!("{written}e3")).is_err());
            let grammar = {
                let t = text.trim();
                let (u, f) = t.split_once(['.', ',']).unwrap_or((t, ""));
                !u.is_empty() && f.len() <= 2 && u.chars().all(|c| c.is_ascii_digit()) && f.chars().all(|c| c.is_ascii_digit())
            };
            if parse_amount(&text).is_ok() {
                check!(grammar, "{:?} accepted", text);
            }
        }

        /// A part of a month costs at most the whole month, never less than nothing, and more
        /// days never cost less.
        #[test]
        fn proration_stays_within_the_price(monthly in cents(), days in 0u32..=40, length in 28u32..=31) {
            let part = prorate(monthly, days, length);
            check!(i128::from(part).abs() <= i128::from(monthly).abs());
            check!(part == 0 || (part < 0) == (monthly < 0));
            if days >= length {
                prop_assert_eq!(part, monthly);
            }
            if days > 0 && days <= length {
                let less = prorate(monthly, days - 1, length);
                if monthly >= 0 { check!(less <= part) } else { check!(less >= part) }
            }
            prop_assert_eq!(prorate(monthly, days, 0), 0);
        }

        /// The pieces of a month split at any days add up to the monthly price exactly: no cent
        /// lost or created by rounding each piece.
        #[test]
        fn split_months_add_up_to_the_whole(monthly in -10_000_000_000i64..=10_000_000_000, length in 28u32..=31, cuts in prop::collection::vec(0u32..=31, 0..6)) {
            let mut points: Vec<u32> = cuts.into_iter().map(|c| c.min(length)).collect();
            points.push(0);
            points.push(length);
            points.sort();
            let pieces: Vec<i64> = points.windows(2).map(|w| prorate_span(monthly, w[0], w[1], length)).collect();
            prop_assert_eq!(pieces.iter().map(|p| i128::from(*p)).sum::<i128>(), i128::from(monthly));
            for (p, w) in pieces.iter().zip(points.windows(2)) {
                check!(i128::from(*p).abs() <= i128::from(monthly).abs());
                if w[0] == w[1] { prop_assert_eq!(*p, 0); }
            }
        }

        /// Revenue of a month is exact for a subscription that covers it, and a subscription
        /// replaced mid-month by another at the same price bills exactly one month's price.
        #[test]
        fn revenue_of_a_replaced_subscription_adds_up(price in 0i64..=10_000_000_000, year in 2000i32..2100, month in 1u32..=12, day in 1u32..=28) {
            let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
            let switch = chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap();
            let before = Billed { client: "a".into(), plan: "old".into(), price: Money::new(price, "EUR"), start: first - chrono::Duration::days(40), stop: Some(switch) };
            let after = Billed { client: "a".into(), plan: "new".into(), price: Money::new(price, "EUR"), start: switch, stop: None };
            let split = revenue_by_month(&[before, after.clone()], &[first]).unwrap();
            prop_assert_eq!(split[0].1.get("EUR").copied().unwrap_or(0), price);
            let full = Billed { start: first, ..after };
            prop_assert_eq!(revenue_by_month(&[full], &[first]).unwrap()[0].1.get("EUR").copied().unwrap_or(0), price);
        }
    }
}

mod periods_and_renewals {
    use super::*;
    use chrono::{Datelike, Duration, NaiveDate};
    use shared::billing::{
        add_months, churn, days_in_month, months_back, renewal_steps, Billed, Money, RenewalFacts,
        RenewalStep, SubscriptionStatus as S,
    };

    fn date() -> impl Strategy<Value = NaiveDate> {
        (1990i32..2200, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
            NaiveDate::from_ymd_opt(y, m, d.min(days_in_month(y, m))).unwrap()
        })
    }

    fn status() -> impl Strategy<Value = S> {
        prop::sample::select(S::ALL.to_vec())
    }

    fn facts() -> impl Strategy<Value = RenewalFacts> {
        (
            status(),
            date(),
            any::<bool>(),
            prop::sample::select(vec![1u32, 3, 6, 12]),
            0u32..=365,
            any::<bool>(),
            proptest::option::of(0u32..=365),
            any::<bool>(),
        )
            .prop_map(
                |(
                    status,
                    end_date,
                    auto_renew,
                    period_months,
                    notice_days,
                    notified,
                    power_off_after_days,
                    powered_off,
                )| RenewalFacts {
                    status,
                    end_date,
                    auto_renew,
                    period_months,
                    notice_days,
                    notified_for: notified.then_some(end_date),
                    power_off_after_days,
                    powered_off,
                },
            )
    }

    /// What `renew_due` writes for a step (api/src/domain/billing/renewals.rs `apply_step`).
    fn apply(f: &mut RenewalFacts, step: &RenewalStep) {
        match step {
            RenewalStep::Notify { end } => {
                f.notified_for = Some(*end);
                f.status = S::Expiring;
            }
            RenewalStep::Renew { to, .. } => {
                f.end_date = *to;
                f.status = S::Active;
            }
            RenewalStep::Expire => f.status = S::Expired,
            RenewalStep::PowerOff => f.powered_off = true,
        }
    }

    proptest! {
        #[test]
        fn months_have_28_to_31_days_and_years_add_up(year in -5000i32..5000, month in 1u32..=12) {
            check!((28..=31).contains(&days_in_month(year, month)));
            let total: u32 = (1..=12).map(|m| days_in_month(year, m)).sum();
            let leap = NaiveDate::from_ymd_opt(year, 2, 29).is_some();
            prop_assert_eq!(total, if leap { 366 } else { 365 });
        }

        /// Adding months lands in the right calendar month, on the same day or the month's last
        /// day when it is shorter, and always moves forward.
        #[test]
        fn adding_months_moves_by_calendar_months(d in date(), months in 0u32..1200) {
            let later = add_months(d, months);
            let index = |x: NaiveDate| x.year() * 12 + x.month0() as i32;
            prop_assert_eq!(index(later) - index(d), months as i32);
            prop_assert_eq!(later.day(), d.day().min(days_in_month(later.year(), later.month())));
            if months > 0 { check!(later > d); } else { prop_assert_eq!(later, d); }
        }

        #[test]
        fn months_back_lists_consecutive_first_days(today in date(), count in 0u32..40) {
            let months = months_back(today, count);
            prop_assert_eq!(months.len(), count as usize);
            check!(months.iter().all(|m| m.day() == 1));
            for w in months.windows(2) {
                prop_assert_eq!(add_months(w[0], 1), w[1]);
            }
            if let Some(last) = months.last() {
                prop_assert_eq!((last.year(), last.month()), (today.year(), today.month()));
            }
        }

        /// Each step is due only in the state it applies to: renewals need auto-renew, expiry
        /// needs its absence, power-off needs an expired subscription past its grace period, and
        /// suspended or cancelled subscriptions are left alone.
        #[test]
        fn steps_are_due_only_where_they_apply(f in facts(), today in date()) {
            let steps = renewal_steps(&f, today);
            for step in &steps {
                match step {
                    RenewalStep::Renew { from, to } => {
                        check!(f.auto_renew && matches!(f.status, S::Active | S::Expiring));
                        prop_assert_eq!(*from, f.end_date);
                        check!(*to > today, "a renewal ends after today");
                        check!(*from <= today);
                    }
                    RenewalStep::Expire => check!(!f.auto_renew && today >= f.end_date && matches!(f.status, S::Active | S::Expiring)),
                    RenewalStep::Notify { end } => {
                        prop_assert_eq!(*end, f.end_date);
                        check!(today < f.end_date && f.notified_for != Some(f.end_date));
                    }
                    RenewalStep::PowerOff => check!(f.status == S::Expired && !f.powered_off && f.power_off_after_days.is_some()),
                }
            }
            if matches!(f.status, S::Suspended | S::Cancelled) {
                check!(steps.is_empty());
            }
        }

        /// Running the job again after its steps were applied settles: within three runs nothing
        /// is left, and no kind of step happens twice for the same end date.
        #[test]
        fn repeated_runs_settle_and_do_each_step_once(f in facts(), today in date()) {
            let mut f = f;
            let mut taken: Vec<(NaiveDate, RenewalStep)> = Vec::new();
            let mut runs = 0;
            loop {
                let steps = renewal_steps(&f, today);
                if steps.is_empty() { break; }
                runs += 1;
                check!(runs <= 3, "still {:?} after {} runs", steps, runs);
                for step in steps {
                    let key = (f.end_date, step.clone());
                    check!(!taken.contains(&key), "{:?} twice", step);
                    taken.push(key);
                    apply(&mut f, &step);
                }
            }
        }

        /// A job that missed days catches up in one run to the same end date as a job that ran
        /// every day.
        #[test]
        fn catching_up_equals_running_every_day(end in date(), period in prop::sample::select(vec![1u32, 3, 6, 12]), late in 0i64..800) {
            let start = RenewalFacts {
                status: S::Active, end_date: end, auto_renew: true, period_months: period,
                notice_days: 14, notified_for: None, power_off_after_days: None, powered_off: false,
            };
            let today = end + Duration::days(late);
            let mut daily = start.clone();
            let mut day = end - Duration::days(1);
            while day <= today {
                for step in renewal_steps(&daily, day) { apply(&mut daily, &step); }
                day += Duration::days(1);
            }
            let mut once = start;
            for step in renewal_steps(&once, today) { apply(&mut once, &step); }
            prop_assert_eq!(once.end_date, daily.end_date);
            check!(once.end_date > today);
        }

        /// Churn is a percentage, and none when nothing was billed on the month's first day.
        #[test]
        fn churn_is_a_percentage(rows in prop::collection::vec((date(), proptest::option::of(date())), 0..10), first in date()) {
            let first = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap();
            let billed: Vec<Billed> = rows.into_iter().map(|(start, stop)| Billed {
                client: "c".into(), plan: "p".into(), price: Money::new(100, "EUR"), start, stop,
            }).collect();
            let at_start = billed.iter().filter(|b| b.start <= first && b.stop.is_none_or(|s| s > first)).count();
            match churn(&billed, first) {
                None => prop_assert_eq!(at_start, 0),
                Some(p) => check!((0.0..=100.0).contains(&p) && at_start > 0),
            }
        }
    }
}

mod script_variables {
    use super::*;
    use serde_json::{json, Value};
    use shared::scripts::{
        check_value, masked_values, resolve_values, validate_schema, VariableKind, VariableSpec,
        SECRET_MASK,
    };
    use std::collections::BTreeMap;

    fn kind() -> impl Strategy<Value = VariableKind> {
        prop::sample::select(vec![
            VariableKind::String,
            VariableKind::Int,
            VariableKind::Bool,
            VariableKind::Choice,
            VariableKind::Secret,
        ])
    }

    fn schema() -> impl Strategy<Value = Vec<VariableSpec>> {
        prop::collection::btree_map(
            "v_[a-z0-9_]{0,10}",
            (
                kind(),
                any::<bool>(),
                prop::collection::vec("[a-z]{1,6}", 1..4),
            ),
            0..6,
        )
        .prop_map(|specs| {
            specs
                .into_iter()
                .map(|(name, (kind, required, options))| VariableSpec {
                    name,
                    kind,
                    required,
                    default: None,
                    options: if kind == VariableKind::Choice {
                        options
                    } else {
                        vec![]
                    },
                    description: String::new(),
                })
                .collect()
        })
    }

    /// Something a form or an API client could send for a variable: right, wrong or coercible.
    fn raw_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            ".{0,10}".prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<i64>().prop_map(|n| Value::from(format!(" {n} "))),
            any::<bool>().prop_map(Value::from),
            prop::sample::select(vec!["true", "false", "a", "b", ""]).prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            Just(Value::Null),
        ]
    }

    proptest! {
        /// What a run resolves to is exactly what Ansible may get: only declared names, every
        /// required one, and values that pass their own check unchanged (coercion is final).
        #[test]
        fn resolved_values_are_declared_complete_and_final(
            schema in schema(),
            values in prop::collection::btree_map("v_[a-z0-9_]{0,10}", raw_value(), 0..6),
        ) {
            prop_assert_eq!(validate_schema(&schema), Ok(()));
            match resolve_values(&schema, &values) {
                Ok(resolved) => {
                    for (name, value) in &resolved {
                        let spec = schema.iter().find(|s| &s.name == name);
                        check!(spec.is_some(), "{} is not declared", name);
                        prop_assert_eq!(check_value(spec.unwrap(), value), Ok(value.clone()));
                    }
                    for spec in schema.iter().filter(|s| s.required) {
                        check!(resolved.contains_key(&spec.name), "{} is required", spec.name);
                    }
                    for name in values.keys() {
                        check!(schema.iter().any(|s| &s.name == name), "{} was accepted", name);
                    }
                }
                Err(errors) => {
                    check!(!errors.is_empty());
                    check!(errors.keys().all(|k| k.starts_with("variables.")), "{:?}", errors);
                }
            }
        }

        /// Secrets never show: the masked values keep every name and no secret's value.
        #[test]
        fn masked_values_never_show_a_secret(
            schema in schema(),
            secrets in prop::collection::vec("[a-zA-Z0-9]{9,20}", 6),
        ) {
            let values: BTreeMap<String, Value> = schema
                .iter()
                .zip(&secrets)
                .map(|(s, secret)| (s.name.clone(), Value::from(secret.clone())))
                .collect();
            let masked = masked_values(&schema, &values);
            prop_assert_eq!(masked.keys().collect::<Vec<_>>(), values.keys().collect::<Vec<_>>());
            for spec in schema.iter().filter(|s| s.kind == VariableKind::Secret) {
                prop_assert_eq!(&masked[&spec.name], &Value::from(SECRET_MASK));
                let shown = serde_json::to_string(&masked).unwrap();
                check!(!shown.contains(values[&spec.name].as_str().unwrap()), "{} leaked", spec.name);
            }
        }
    }
}
