//! Progress bars on stderr for the long steps (fetching, rendering PDFs), drawn
//! only when stderr is a terminal and `--quiet` is not given.

use std::sync::Arc;
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

/// A fetch's progress drawn as a bar (see [`bar`]); hidden when `show` is false.
pub fn fetch_bar(show: bool) -> Arc<dyn vobiz::fetch::Progress> {
    Arc::new(FetchBar(bar(show, "fetching from Vobiz", "requests", 0)))
}

/// The bar behind [`fetch_bar`]: its length grows as requests are planned.
struct FetchBar(ProgressBar);

impl vobiz::fetch::Progress for FetchBar {
    fn planned(&self, n: u64) {
        self.0.inc_length(n);
    }

    fn answered(&self) {
        self.0.inc(1);
    }

    fn finished(&self) {
        self.0.finish_and_clear();
    }
}
