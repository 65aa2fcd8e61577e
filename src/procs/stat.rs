//! Parsing `/proc/PID/stat` and `/proc/PID/cmdline`: pure functions over the file text, so the
//! tricky cases (a `comm` with spaces or `)` in it, NUL-padded process titles) are unit-tested
//! on fixtures.

/// The fields of `/proc/PID/stat` podctl uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stat {
    pub(crate) pid: i32,
    pub(crate) comm: String,
    pub(crate) state: char,
    pub(crate) ppid: i32,
    pub(crate) pgid: i32,
    pub(crate) start_ticks: u64,
}

/// Parses the text of `/proc/PID/stat` (see proc(5)). `comm` sits in parentheses and may
/// itself contain spaces and `)`, so the text is split at the first `(` and the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_owned();
    // Fields after `comm`, numbered as in proc(5): 3 state, 4 ppid, 5 pgrp, …, 22 starttime.
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).copied();
    let mut state_chars = field(3)?.chars();
    let state = state_chars.next()?;
    if state_chars.next().is_some() {
        return None;
    }
    Some(Stat {
        pid,
        comm,
        state,
        ppid: field(4)?.parse().ok()?,
        pgid: field(5)?.parse().ok()?,
        start_ticks: field(22)?.parse().ok()?,
    })
}

/// Turns the bytes of `/proc/PID/cmdline` (NUL-separated arguments; a title set by
/// setproctitle may be one string padded with NULs) into one line joined with spaces.
pub(crate) fn parse_cmdline(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).split('\0').filter(|arg| !arg.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The value of `name` in the bytes of `/proc/PID/environ` (NUL-separated `NAME=value`).
pub(crate) fn environ_get(bytes: &[u8], name: &str) -> Option<String> {
    if name.is_empty() || name.contains('=') {
        return None;
    }
    bytes.split(|b| *b == 0).find_map(|entry| {
        let value = entry.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
        Some(String::from_utf8_lossy(value).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_line(comm: &str) -> String {
        format!(
            "4242 ({comm}) S 1 4242 4242 0 -1 4194560 1234 0 0 0 10 5 0 0 20 0 3 0 987654 \
             123456789 2000 18446744073709551615 1 1 0 0 0 0 0 16781312 1026 0 0 0 17 3 0 0 0 0 0\n"
        )
    }

    #[test]
    fn parses_a_plain_stat_line() {
        let stat = parse_stat(&stat_line("sleep")).expect("parses");
        assert_eq!(
            stat,
            Stat { pid: 4242, comm: "sleep".into(), state: 'S', ppid: 1, pgid: 4242, start_ticks: 987_654 }
        );
    }

    #[test]
    fn comm_with_spaces_and_parens_splits_at_the_last_paren() {
        let stat = parse_stat(&stat_line("a) b)")).expect("parses");
        assert_eq!(stat.comm, "a) b)");
        assert_eq!(stat.ppid, 1);
        assert_eq!(stat.start_ticks, 987_654);
        let stat = parse_stat(&stat_line("VLLM::EngineCor")).expect("parses");
        assert_eq!(stat.comm, "VLLM::EngineCor");
        let stat = parse_stat(&stat_line("x (y) 1 2 3")).expect("parses");
        assert_eq!(stat.comm, "x (y) 1 2 3");
        assert_eq!(stat.pgid, 4242);
    }

    #[test]
    fn zombie_state_and_negative_fields() {
        let line = "77 (defunct thing) Z 76 -1 76 0 -1 4227148 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        let stat = parse_stat(line).expect("parses");
        assert_eq!(stat.state, 'Z');
        assert_eq!(stat.pgid, -1);
        assert_eq!(stat.start_ticks, 55);
    }

    #[test]
    fn truncated_or_garbage_stat_is_none() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("12 (x) S 1 2"), None);
        assert_eq!(parse_stat("12 x) S 1 2 3"), None);
        assert_eq!(parse_stat("abc (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"), None);
        assert_eq!(parse_stat("12 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"), None);
    }

    #[test]
    fn cmdline_joins_arguments_and_drops_padding() {
        assert_eq!(parse_cmdline(b"vllm\0serve\0Qwen/Qwen3\0"), "vllm serve Qwen/Qwen3");
        assert_eq!(parse_cmdline(b"VLLM::EngineCore\0\0\0\0\0\0"), "VLLM::EngineCore");
        assert_eq!(parse_cmdline(b""), "");
    }

    #[test]
    fn environ_lookup_matches_whole_names() {
        let env = b"PATH=/bin\0PODCTL_RUN_IDX=no\0PODCTL_RUN_ID=abc=1\0EMPTY=\0";
        assert_eq!(environ_get(env, "PODCTL_RUN_ID").as_deref(), Some("abc=1"));
        assert_eq!(environ_get(env, "EMPTY").as_deref(), Some(""));
        assert_eq!(environ_get(env, "PODCTL_RUN"), None);
        assert_eq!(environ_get(env, "MISSING"), None);
        assert_eq!(environ_get(env, ""), None);
    }
}
