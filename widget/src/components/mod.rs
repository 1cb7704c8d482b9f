//! The widget's views, one file each.

pub mod chat;
pub mod composer;
pub mod feedback;
pub mod message;
#[cfg(feature = "app")]
pub mod requests;
pub mod theme;
