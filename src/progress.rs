//! Progress bars on stderr for the long steps (fetching, rendering PDFs), drawn
//! only when stderr is a terminal and `--quiet` is not given.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar reading `⠋ {what} [=====   ] 120/2000 {unit} 3s`, or a hidden one when
/// `show` is false; its length starts at `len` and may grow.
pub fn bar(show: bool, what: &str, unit: &str, len: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {wide_bar} {pos}/{len} {prefix} {elapsed}")
            .expect("a valid progress template"),
    );
    bar.set_message(what.to_owned());
    bar.set_prefix(unit.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
