pub mod chart;
pub mod feedback;
pub mod form;
pub mod modal;
pub mod pager;
pub mod shell;
