pub mod cancel;
pub mod chart;
pub mod feedback;
pub mod form;
pub mod log_panel;
pub mod modal;
pub mod pager;
pub mod shell;
