//! Which processes listen on a TCP port: `/proc/net/tcp` and `/proc/net/tcp6` give the socket
//! inodes in LISTEN state on the port, and each process's `/proc/PID/fd` links to
//! `socket:[INODE]` name the owners. The table parser is pure and tested on fixtures. Also
//! where to reach a server from its bind address ([`connect_host`]).

use std::collections::HashSet;

use super::scan;

/// Where to reach a server bound to `bind`: a wildcard address is asked on loopback.
pub fn connect_host(bind: &str) -> &str {
    match bind {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" => "[::1]",
        h => h,
    }
}

/// The `st` value of a socket in LISTEN state.
const TCP_LISTEN: &str = "0A";

/// The socket inodes in LISTEN state on `port` in the text of a `/proc/net/tcp` or
/// `/proc/net/tcp6` table (any local address). Lines that do not parse are skipped.
pub(crate) fn parse_listen_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local = cols.get(1)?;
            let st = cols.get(3)?;
            let inode: u64 = cols.get(9)?.parse().ok()?;
            let (_, port_hex) = local.rsplit_once(':')?;
            let local_port = u16::from_str_radix(port_hex, 16).ok()?;
            (local_port == port && st.eq_ignore_ascii_case(TCP_LISTEN) && inode != 0).then_some(inode)
        })
        .collect()
}

/// The inode of a `/proc/PID/fd` link target of the form `socket:[INODE]`.
pub(crate) fn socket_inode(target: &str) -> Option<u64> {
    target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// LISTEN socket inodes on `port` from this network namespace's IPv4 and IPv6 tables.
fn listen_inodes(port: u16) -> Vec<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| parse_listen_inodes(&table, port))
        .collect()
}

/// Pids holding a listening TCP socket on `port`.
pub(super) fn listeners(port: u16) -> Vec<i32> {
    let inodes: HashSet<u64> = listen_inodes(port).into_iter().collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    scan::pids_with_fd(|target| socket_inode(target).is_some_and(|inode| inodes.contains(&inode)))
}

/// Whether anything listens on `port` per the tables.
pub(super) fn port_listening(port: u16) -> bool {
    !listen_inodes(port).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41001 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41002 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 41003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C350 0100007F:1F90 06 00000000:00000000 03:00000D2B 00000000     0        0 0 3 0000000000000000
";

    const TCP6: &str = "\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 52001 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 52002 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn finds_the_listen_socket_and_skips_established_ones() {
        // 0x1F90 = 8080: one LISTEN line, one ESTABLISHED line (st 01) on the same port.
        assert_eq!(parse_listen_inodes(TCP, 8080), vec![41001]);
        assert_eq!(parse_listen_inodes(TCP, 8081), vec![41002]);
        // A TIME_WAIT line (st 06) with inode 0 never counts.
        assert_eq!(parse_listen_inodes(TCP, 50000), Vec::<u64>::new());
        assert_eq!(parse_listen_inodes(TCP, 8000), Vec::<u64>::new());
    }

    #[test]
    fn parses_ipv6_lines() {
        assert_eq!(parse_listen_inodes(TCP6, 8080), vec![52001]);
        assert_eq!(parse_listen_inodes(TCP6, 9000), vec![52002]);
    }

    #[test]
    fn header_only_or_garbage_tables_give_nothing() {
        assert!(parse_listen_inodes("", 8000).is_empty());
        assert!(parse_listen_inodes("  sl  local_address rem_address st\n", 8000).is_empty());
        assert!(parse_listen_inodes("header\n 0: nonsense\n 1: a:zz b 0A c d e f g h 9\n", 8000).is_empty());
    }

    #[test]
    fn socket_links_give_their_inode() {
        assert_eq!(socket_inode("socket:[41001]"), Some(41001));
        assert_eq!(socket_inode("pipe:[41001]"), None);
        assert_eq!(socket_inode("/dev/nvidia0"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }
}
