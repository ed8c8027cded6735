//! One module per subcommand.

pub mod self_check;
