//! Client subscriptions: the table a client's page lists them in, the form that creates or
//! edits one, and the detail page with its money, the buttons its status allows and its history.

mod detail;
mod form;
mod history;
mod links;
mod list;

pub use detail::SubscriptionPage;
pub use form::SubscriptionForm;
pub use list::{amount, SubscriptionTable};
