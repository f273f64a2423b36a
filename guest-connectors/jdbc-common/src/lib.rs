//! Pure logic shared by the bundled JDBC source and sink connectors
//! (Confluent's kafka-connect-jdbc behaviour): SQL per dialect, Connect
//! schemas and values, exact decimals, dates and times. Nothing here calls
//! the host, so it is unit-tested natively with `cargo test -p jdbc-common`.

pub mod connect;
pub mod decimal;
pub mod dialect;
pub mod settings;
pub mod sink_sql;
pub mod source_schema;
pub mod source_sql;
pub mod time;
pub mod types;

pub use dialect::{Dialect, TableId};
pub use types::{Cell, ColumnInfo, ConnectType, Field, Kind};
