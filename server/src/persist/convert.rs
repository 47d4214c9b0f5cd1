//! Server data types <-> the RDB value model (rill_storage::rdb).
