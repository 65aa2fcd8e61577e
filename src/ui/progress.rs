//! Progress while something slow happens (vLLM starting): a spinner with the phase and the
//! elapsed time on a terminal, plain timestamped lines (one per change) otherwise, so logs
//! of CI jobs and `nohup` stay readable.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// One task's progress.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    began: Instant,
    last: String,
    quiet: bool,
}

impl Progress {
    /// A spinner on a terminal (stderr), plain lines otherwise; nothing with `quiet`.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && console::Term::stderr().is_term()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar, began: Instant::now(), last: String::new(), quiet }
    }

    /// Shows `status` (printed as a new line only when it changed, when not a terminal).
    pub fn set(&mut self, status: &str) {
        if status == self.last {
            return;
        }
        status.clone_into(&mut self.last);
        match &self.bar {
            Some(bar) => bar.set_message(status.to_owned()),
            None if !self.quiet => {
                let secs = self.began.elapsed().as_secs_f64();
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("[{secs:6.1}s] {status}\n").as_bytes(),
                );
            }
            None => {}
        }
    }

    /// Removes the spinner.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.began.elapsed()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `1m12s`, `8.3s`.
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
