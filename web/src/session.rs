//! The signed-in session. The access token lives only in memory (a thread-local, never
//! web storage); the refresh token is an httpOnly cookie the browser sends to /api/auth.

use crate::api::{self, ApiErrorView};
use leptos::leptos_dom::helpers::TimeoutHandle;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::dto::{LoginRequest, Me, TokenResponse};
use shared::roles::{roles_grant, Permission};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// The start-up refresh has not answered yet.
    Checking,
    SignedIn,
    SignedOut,
    /// The start-up refresh could not reach the server; the user may retry.
    Unreachable(String),
}

#[derive(Clone, Copy)]
pub struct Session {
    pub state: RwSignal<AuthState>,
    pub me: RwSignal<Option<Me>>,
    /// A message for the sign-in page, e.g. why the previous session ended.
    pub notice: RwSignal<Option<String>>,
}

impl Session {
    pub fn can(&self, permission: Permission) -> bool {
        self.me.with(|m| {
            m.as_ref()
                .is_some_and(|m| roles_grant(&m.roles, permission))
        })
    }
}

type RefreshResult = Result<(), ApiErrorView>;

#[derive(Default)]
struct Inflight {
    result: RefCell<Option<RefreshResult>>,
    wakers: RefCell<Vec<Waker>>,
}

/// Waits for a refresh started by another caller.
struct Wait(Rc<Inflight>);

impl Future for Wait {
    type Output = RefreshResult;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RefreshResult> {
        if let Some(result) = self.0.result.borrow().clone() {
            return Poll::Ready(result);
        }
        self.0.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

thread_local! {
    static TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    static SESSION: Cell<Option<Session>> = const { Cell::new(None) };
    static INFLIGHT: RefCell<Option<Rc<Inflight>>> = const { RefCell::new(None) };
    static TIMER: RefCell<Option<TimeoutHandle>> = const { RefCell::new(None) };
}

/// Creates the session signals, provides them as context and restores a previous session
/// from the refresh cookie.
pub fn init() -> Session {
    let session = Session {
        state: RwSignal::new(AuthState::Checking),
        me: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    SESSION.with(|s| s.set(Some(session)));
    provide_context(session);
    restore();
    session
}

/// Asks the server whether the refresh cookie still holds a session.
pub fn restore() {
    set_state(AuthState::Checking);
    spawn_local(async {
        match refresh().await {
            Ok(()) => {}
            Err(e) if e.is_unreachable() => set_state(AuthState::Unreachable(e.message())),
            Err(_) => set_state(AuthState::SignedOut),
        }
    });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

fn global() -> Option<Session> {
    SESSION.with(|s| s.get())
}

fn set_state(next: AuthState) {
    if let Some(s) = global() {
        // Only notify on a real change: the shell re-renders on every state notification.
        if s.state.try_with_untracked(|cur| *cur != next) == Some(true) {
            s.state.set(next);
        }
    }
}

pub fn access_token() -> Option<String> {
    TOKEN.with(|t| t.borrow().clone())
}

fn apply(response: TokenResponse) {
    TOKEN.with(|t| *t.borrow_mut() = Some(response.access_token));
    if let Some(s) = global() {
        if s.me
            .try_with_untracked(|m| m.as_ref() != Some(&response.user))
            == Some(true)
        {
            s.me.set(Some(response.user));
        }
        s.notice.set(None);
    }
    set_state(AuthState::SignedIn);
    schedule_refresh(response.expires_in);
}

/// Refreshes about a minute before the access token expires so calls rarely meet a 401.
fn schedule_refresh(expires_in: u64) {
    let delay = expires_in.saturating_sub(60).max(10);
    let handle = set_timeout_with_handle(
        || {
            spawn_local(async {
                if let Err(e) = refresh().await {
                    if e.status == 401 {
                        expire();
                    }
                }
            })
        },
        Duration::from_secs(delay),
    )
    .ok();
    TIMER.with(|t| {
        if let Some(old) = t.replace(handle) {
            old.clear();
        }
    });
}

fn cancel_refresh() {
    TIMER.with(|t| {
        if let Some(old) = t.take() {
            old.clear();
        }
    });
}

/// Exchanges the refresh cookie for a new access token. Concurrent callers share one
/// request: the server rotates the cookie and treats a replayed one as theft.
pub async fn refresh() -> RefreshResult {
    if let Some(inflight) = INFLIGHT.with(|i| i.borrow().clone()) {
        return Wait(inflight).await;
    }
    let inflight = Rc::new(Inflight::default());
    INFLIGHT.with(|i| *i.borrow_mut() = Some(inflight.clone()));
    let result = match api::send_public::<TokenResponse>("/api/auth/refresh", None).await {
        Ok(response) => {
            apply(response);
            Ok(())
        }
        Err(e) => Err(e),
    };
    INFLIGHT.with(|i| *i.borrow_mut() = None);
    *inflight.result.borrow_mut() = Some(result.clone());
    for waker in inflight.wakers.borrow_mut().drain(..) {
        waker.wake();
    }
    result
}

pub async fn login(request: LoginRequest) -> Result<(), ApiErrorView> {
    let body = api::to_json(&request)?;
    let response = api::send_public::<TokenResponse>("/api/auth/login", Some(body)).await?;
    apply(response);
    Ok(())
}

/// Ends the session on the server (best effort) and locally.
pub async fn logout(notice: Option<&str>) {
    // Whatever the server says, the local session ends: the user asked to leave.
    let _ = api::post_public_empty("/api/auth/logout", None).await;
    clear(notice);
}

/// Forgets the session locally; the shell then redirects to the sign-in page.
pub fn clear(notice: Option<&str>) {
    TOKEN.with(|t| *t.borrow_mut() = None);
    cancel_refresh();
    set_state(AuthState::SignedOut);
    if let Some(s) = global() {
        s.notice.set(notice.map(str::to_owned));
        s.me.set(None);
    }
}

/// The server no longer accepts this session.
pub fn expire() {
    clear(Some("Your session has ended. Sign in again to continue."));
}
