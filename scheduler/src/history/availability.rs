//! See the module documentation of [`crate::history`].
