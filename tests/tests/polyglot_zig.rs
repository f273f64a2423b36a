//! The Zig kit end to end: Zig's LinesSource tails a text file into a
//! topic, and Zig's FileSink writes the topic back out through the Zig
//! ValueFilter, in one worker process with a real broker. The source's
//! offsets are byte positions, so a restarted worker resumes after the
//! last line without sending any line twice.

use std::path::Path;
use std::time::{Duration, Instant};

use wasmconnect_tests::{
    Broker, Rest, WorkerProcess, append, free_port, polyglot_dir, worker_props_with_plugins,
};

const TOPIC: &str = "zig-lines";

/// Standalone connector files: the source, and the sink with the filter
/// in its chain dropping the lines that mention `skip`.
fn connectors(dir: &Path) -> [(&'static str, String); 2] {
    [
        (
            "lines.properties",
            format!(
                "name=zig-lines\nconnector.class=io.wasmconnect.zig.LinesSource\ntasks.max=1\n\
                 file={}\ntopic={TOPIC}\npoll.interval.ms=50\n",
                dir.join("in.txt").display()
            ),
        ),
        (
            "out.properties",
            format!(
                "name=zig-out\nconnector.class=io.wasmconnect.zig.FileSink\ntasks.max=1\n\
                 topics={TOPIC}\nfile={}\nformat={{topic}}-{{partition}}@{{offset}}: {{value}}\n\
                 transforms=quiet\ntransforms.quiet.type=ValueFilter\ntransforms.quiet.pattern=skip\n",
                dir.join("out.txt").display()
            ),
        ),
    ]
}

fn start(dir: &Path, broker: &Broker, port: u16) -> WorkerProcess {
    let props = worker_props_with_plugins(broker.bootstrap(), port, &polyglot_dir(), "");
    let files = connectors(dir);
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    WorkerProcess::start(dir, &props, &files)
}

/// Polls until the output's last line is `last`, then returns every line.
async fn wait_for_last_line(path: &Path, last: &str, worker: &WorkerProcess) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if text.ends_with('\n') && lines.last().map(String::as_str) == Some(last) {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{} does not end with {last:?} after 60 s: {lines:?}\nworker log:\n{}",
            path.display(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn expected(lines: &[(u32, &str)]) -> Vec<String> {
    lines
        .iter()
        .map(|(offset, value)| format!("{TOPIC}-0@{offset}: {value}"))
        .collect()
}

#[tokio::test]
async fn zig_lines_source_feeds_a_zig_file_sink_through_the_zig_filter() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    // The last line has no newline yet: it must wait for one.
    std::fs::write(&input, "alpha\nskip bravo\ncharlie\r\ndelta\nec").unwrap();
    let port = free_port();
    let mut worker = start(dir.path(), &broker, port);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;

    let mut want = expected(&[(0, "alpha"), (2, "charlie"), (3, "delta")]);
    assert_eq!(
        wait_for_last_line(&output, "zig-lines-0@3: delta", &worker).await,
        want
    );

    // Tailing: the partial line completes, more lines follow.
    append(&input, "ho\nskip golf\nhotel\n");
    want.extend(expected(&[(4, "echo"), (6, "hotel")]));
    assert_eq!(
        wait_for_last_line(&output, "zig-lines-0@6: hotel", &worker).await,
        want
    );

    // Restart: lines written while the worker is down are read from the
    // committed byte position, and nothing before it comes again (a line
    // sent twice would reach the file before the last one).
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
    append(&input, "india\nskip juliet\nkilo\n");
    let worker = start(dir.path(), &broker, port);
    rest.wait_ready(&worker).await;
    want.extend(expected(&[(7, "india"), (9, "kilo")]));
    assert_eq!(
        wait_for_last_line(&output, "zig-lines-0@9: kilo", &worker).await,
        want
    );
}
