//! One module per group of subcommands.

pub mod audit;
pub mod case;
#[cfg(feature = "demo")]
pub mod demo;
pub mod enrol;
pub mod forward;
pub mod members;
pub mod notify;
pub mod paper;
pub mod participant;
pub mod review;
pub mod review_files;
pub mod sealing;
pub mod self_check;
pub mod verify_letter;
