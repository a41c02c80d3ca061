//! didbill's integration tests, one module per feature, linked into a single test
//! binary (`cargo test --test it`): one link instead of sixteen keeps a rebuild of
//! the tests to seconds. Run one feature with `cargo test --test it cli_ledger::`.
#![forbid(unsafe_code)]

mod common;

mod api_faults;
mod api_fetch;
mod bench_smoke;
mod billing_props;
mod cli_api;
mod cli_audit;
mod cli_exports;
mod cli_extremes;
mod cli_faults;
mod cli_fx;
mod cli_gstr1;
mod cli_ledger;
mod cli_messages;
mod cli_pdf;
mod cli_pricing;
mod cli_run;
mod cli_safety;
mod cli_send;
mod cli_tally;
mod cli_usage;
mod closed_pipe;
mod hostile_input;
mod layering;
mod note_exports;
mod notes;
mod pdf;
mod pg_ledger;
mod readme;
mod secrets;
