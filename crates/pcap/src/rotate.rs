//! File rotation for long captures, after tcpdump's `-C`, `-G` and `-W`:
//! a new file when the current one has grown past a size, when a time
//! period has passed, and a ring of a fixed number of files.
//!
//! Names follow tcpdump's rules. The template is first expanded with
//! `strftime`-style fields (`%Y %m %d %H %M %S %j %y %s %F %T %%`, in UTC)
//! for the time of the first frame of the file's period. With a size limit
//! a number is appended: with a ring of `W` files, `0…W-1` padded to the
//! width of `W-1`; without a ring, nothing for the first file of a period
//! and `1, 2, …` for the next ones. Time comes from the frames' own
//! timestamps, so rotation is the same live and when rewriting a file.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::drop_behind::DropBehind;
use crate::error::{Error, ErrorKind};
use crate::frame::{Frame, RecordMeta};
use crate::meta::{Interface, InterfaceStats};
use crate::writer::{Writer, WriterOptions};

/// When to start a new file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// `-C`: start a new file before writing to one larger than this many
    /// bytes.
    pub size_limit: Option<u64>,
    /// `-G`: start a new file when this many seconds have passed since the
    /// first frame of the current one.
    pub period_secs: Option<u64>,
    /// `-W`: with a size limit, reuse this many names in a ring
    /// (overwriting the oldest); with a period alone, stop after this many
    /// files.
    pub max_files: Option<u32>,
}

/// A writer that spreads frames over a series of files.
#[derive(Debug)]
pub struct RotatingWriter {
    template: String,
    rotation: Rotation,
    opts: WriterOptions,
    interfaces: Vec<Interface>,
    current: Option<Writer<DropBehind>>,
    current_path: Option<PathBuf>,
    /// Start of the current period, seconds since the epoch.
    period_start: Option<u64>,
    /// Files opened in the current period (for size numbering).
    in_period: u64,
    /// Files opened in all.
    opened: u64,
    /// Files closed and not yet collected.
    closed: Vec<PathBuf>,
    final_stats: Vec<InterfaceStats>,
}

impl RotatingWriter {
    /// A rotating writer; files are created when the first frame comes.
    pub fn new(
        template: impl Into<String>,
        rotation: Rotation,
        opts: WriterOptions,
    ) -> RotatingWriter {
        RotatingWriter {
            template: template.into(),
            rotation,
            opts,
            interfaces: Vec::new(),
            current: None,
            current_path: None,
            period_start: None,
            in_period: 0,
            opened: 0,
            closed: Vec::new(),
            final_stats: Vec::new(),
        }
    }

    /// Adds an interface to the current file and to every later one.
    pub fn add_interface(&mut self, iface: &Interface) -> Result<u32, Error> {
        if let Some(w) = self.current.as_mut() {
            w.add_interface(iface)?;
        }
        self.interfaces.push(iface.clone());
        Ok(self.interfaces.len() as u32 - 1)
    }

    /// The file being written, if one is open.
    pub fn current_path(&self) -> Option<&Path> {
        self.current_path.as_deref()
    }

    /// Files finished since the last call (for a post-rotate command).
    pub fn take_closed(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.closed)
    }

    /// Statistics to write at the end of the last file (pcapng).
    pub fn set_final_stats(&mut self, stats: Vec<InterfaceStats>) {
        self.final_stats = stats;
    }

    /// The writer that a record of `record_len` bytes with this timestamp
    /// goes to, rotating first if it is time; for callers that encode
    /// record headers themselves ([`Writer::encode_record_header`]).
    pub fn writer_for(
        &mut self,
        ts_ns: u64,
        record_len: usize,
    ) -> Result<&mut Writer<DropBehind>, Error> {
        let _ = record_len;
        if self.would_rotate(ts_ns, 0) {
            self.open_next(ts_ns / 1_000_000_000)?;
        }
        self.current
            .as_mut()
            .ok_or(Error::Write(ErrorKind::WriterClosed))
    }

    /// Whether a record with this timestamp would go to a new file if the
    /// current one had `pending` more bytes than it has been given: for a
    /// caller that gathers records for one vectored write and must hand
    /// them over before the file they belong to is closed.
    pub fn would_rotate(&self, ts_ns: u64, pending: u64) -> bool {
        let now = ts_ns / 1_000_000_000;
        match (&self.current, self.period_start) {
            (None, _) => true,
            (Some(w), start) => {
                let by_time = match (self.rotation.period_secs, start) {
                    (Some(p), Some(s)) => now >= s.saturating_add(p.max(1)),
                    _ => false,
                };
                let by_size = self
                    .rotation
                    .size_limit
                    .is_some_and(|l| w.bytes_written().saturating_add(pending) > l);
                by_time || by_size
            }
        }
    }

    /// Writes a frame (see [`Writer::write_frame`]).
    pub fn write_frame(&mut self, frame: &Frame<'_>) -> Result<(), Error> {
        self.writer_for(frame.ts_ns, frame.data.len())?
            .write_frame(frame)
    }

    /// Writes a packet (see [`Writer::write_packet`]).
    pub fn write_packet(&mut self, meta: &RecordMeta, data: &[u8]) -> Result<(), Error> {
        self.writer_for(meta.ts_ns, data.len())?
            .write_packet(meta, data)
    }

    /// Finishes the last file (creating one if no frame came) and returns
    /// every file closed since the last [`RotatingWriter::take_closed`].
    pub fn finish(mut self) -> Result<Vec<PathBuf>, Error> {
        if self.current.is_none() && self.opened == 0 {
            self.open_next(0)?;
        }
        self.close_current()?;
        Ok(std::mem::take(&mut self.closed))
    }

    fn close_current(&mut self) -> Result<(), Error> {
        if let Some(mut w) = self.current.take() {
            w.set_final_stats(std::mem::take(&mut self.final_stats));
            w.finish()?;
            if let Some(p) = self.current_path.take() {
                self.closed.push(p);
            }
        }
        Ok(())
    }

    fn open_next(&mut self, now: u64) -> Result<(), Error> {
        let new_period = match (self.rotation.period_secs, self.period_start) {
            (_, None) => true,
            (Some(p), Some(s)) => now >= s.saturating_add(p.max(1)),
            (None, Some(_)) => false,
        };
        if new_period {
            self.period_start = Some(now);
            self.in_period = 0;
        }
        if let (Some(w), None) = (self.rotation.max_files, self.rotation.size_limit)
            && self.opened >= u64::from(w)
        {
            self.close_current()?;
            return Err(Error::Write(ErrorKind::RotationLimit { files: w }));
        }
        self.close_current()?;
        let base = strftime(&self.template, self.period_start.unwrap_or(now));
        let name = match (self.rotation.size_limit, self.rotation.max_files) {
            (Some(_), Some(w)) => {
                let width = digits(u64::from(w.max(1)) - 1);
                format!("{base}{:0width$}", self.opened % u64::from(w.max(1)))
            }
            (Some(_), None) if self.in_period > 0 => format!("{base}{}", self.in_period),
            _ => base,
        };
        let path = PathBuf::from(name);
        let file = File::create(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        let file = DropBehind::new(file, self.opts.keep_cache);
        let mut w = Writer::new(file, self.opts.clone())?;
        for i in &self.interfaces {
            w.add_interface(i)?;
        }
        self.current = Some(w);
        self.current_path = Some(path);
        self.opened += 1;
        self.in_period += 1;
        Ok(())
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days end each 4-year cycle.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Expands `strftime`-style fields for `secs` since the epoch, in UTC.
/// Unknown fields are kept as written.
pub fn strftime(template: &str, secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil(days);
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = CUM[(m - 1) as usize] + d + u32::from(m > 2 && is_leap(y));
    let mut out = String::with_capacity(template.len() + 16);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('H') => out.push_str(&format!("{hh:02}")),
            Some('M') => out.push_str(&format!("{mm:02}")),
            Some('S') => out.push_str(&format!("{ss:02}")),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('s') => out.push_str(&secs.to_string()),
            Some('F') => out.push_str(&format!("{y}-{m:02}-{d:02}")),
            Some('T') => out.push_str(&format!("{hh:02}:{mm:02}:{ss:02}")),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Format;
    use crate::reader::{Reader, ReaderOptions};
    use sluice_wire::LinkType;

    #[test]
    fn strftime_fields() {
        assert_eq!(strftime("%Y-%m-%d %H:%M:%S", 0), "1970-01-01 00:00:00");
        // 2024-02-29 12:34:56 UTC
        assert_eq!(
            strftime("%F %T %j %y %s %% %q", 1_709_210_096),
            "2024-02-29 12:34:56 060 24 1709210096 % %q"
        );
        assert_eq!(strftime("%Y%m%d", 951_782_400), "20000229");
        // 2023-12-31 23:59:59: 2023 is no leap year
        assert_eq!(strftime("%j", 1_704_067_199), "365");
        assert_eq!(strftime("end%", 0), "end%");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }

    fn frames_in(p: &Path) -> Vec<u64> {
        let mut r = Reader::open_with(p, ReaderOptions::default()).unwrap();
        let mut v = Vec::new();
        while let Some(f) = r.next_frame() {
            v.push(f.unwrap().ts_ns / 1_000_000_000);
        }
        v
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn by_size_without_ring() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("cap.pcap").to_string_lossy().into_owned();
        let rot = Rotation {
            size_limit: Some(1000),
            ..Rotation::default()
        };
        let mut w = RotatingWriter::new(t, rot, WriterOptions::new(Format::Pcap));
        w.add_interface(&Interface::new(LinkType::ETHERNET, 0))
            .unwrap();
        for i in 0..10u64 {
            w.write_frame(&Frame::new(
                0,
                LinkType::ETHERNET,
                i * 1_000_000_000,
                &[0; 300],
            ))
            .unwrap();
        }
        let files = w.finish().unwrap();
        // 24 + 4 * 316 = 1288 > 1000: four frames per file
        assert_eq!(names(&files), ["cap.pcap", "cap.pcap1", "cap.pcap2"]);
        assert_eq!(frames_in(&files[0]), [0, 1, 2, 3]);
        assert_eq!(frames_in(&files[2]), [8, 9]);
    }

    #[test]
    fn by_size_in_a_ring() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("ring").to_string_lossy().into_owned();
        let rot = Rotation {
            size_limit: Some(500),
            max_files: Some(3),
            ..Rotation::default()
        };
        let mut w = RotatingWriter::new(t, rot, WriterOptions::new(Format::PcapNg));
        w.add_interface(&Interface::new(LinkType::RAW, 0)).unwrap();
        let mut closed = Vec::new();
        for i in 0..12u64 {
            w.write_frame(&Frame::new(
                0,
                LinkType::RAW,
                i * 1_000_000_000,
                &[0x45; 200],
            ))
            .unwrap();
            closed.extend(w.take_closed());
        }
        closed.extend(w.finish().unwrap());
        let n = names(&closed);
        assert_eq!(n[..4], ["ring0", "ring1", "ring2", "ring0"]);
        // only three files remain, the newest frames in the last one written
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 3);
        assert_eq!(frames_in(closed.last().unwrap()).last(), Some(&11));
    }

    #[test]
    fn would_rotate_counts_pending_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("p").to_string_lossy().into_owned();
        let rot = Rotation {
            size_limit: Some(1000),
            period_secs: Some(10),
            ..Rotation::default()
        };
        let mut w = RotatingWriter::new(t, rot, WriterOptions::new(Format::PcapNg));
        w.add_interface(&Interface::new(LinkType::RAW, 0)).unwrap();
        assert!(w.would_rotate(5_000_000_000, 0), "no file yet");
        let written = w.writer_for(5_000_000_000, 0).unwrap().bytes_written();
        assert!(!w.would_rotate(5_000_000_000, 0));
        assert!(!w.would_rotate(5_000_000_000, 1000 - written));
        assert!(w.would_rotate(5_000_000_000, 1001 - written));
        assert!(!w.would_rotate(14_999_999_999, 0));
        assert!(w.would_rotate(15_000_000_000, 0));
    }

    #[test]
    fn by_time_with_names_and_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir
            .path()
            .join("c-%H%M%S.pcapng")
            .to_string_lossy()
            .into_owned();
        let rot = Rotation {
            period_secs: Some(60),
            max_files: Some(2),
            ..Rotation::default()
        };
        let mut w = RotatingWriter::new(t, rot, WriterOptions::new(Format::PcapNg));
        w.add_interface(&Interface::new(LinkType::ETHERNET, 0))
            .unwrap();
        let base = 1_700_000_000u64; // 22:13:20 UTC
        for s in [0, 30, 59] {
            w.write_frame(&Frame::new(
                0,
                LinkType::ETHERNET,
                (base + s) * 1_000_000_000,
                &[1],
            ))
            .unwrap();
        }
        w.write_frame(&Frame::new(
            0,
            LinkType::ETHERNET,
            (base + 61) * 1_000_000_000,
            &[1],
        ))
        .unwrap();
        assert_eq!(names(&w.take_closed()), ["c-221320.pcapng"]);
        let e = w
            .write_frame(&Frame::new(
                0,
                LinkType::ETHERNET,
                (base + 200) * 1_000_000_000,
                &[1],
            ))
            .unwrap_err();
        assert!(e.to_string().contains("2 files"), "{e}");
        let files = w.finish().unwrap();
        assert_eq!(names(&files), ["c-221421.pcapng"]);
        assert_eq!(
            frames_in(&dir.path().join("c-221320.pcapng")),
            [base, base + 30, base + 59]
        );
    }

    #[test]
    fn time_and_size_together_number_within_the_period() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("x%M-").to_string_lossy().into_owned();
        let rot = Rotation {
            period_secs: Some(60),
            size_limit: Some(100),
            max_files: None,
        };
        let mut w = RotatingWriter::new(t, rot, WriterOptions::new(Format::Pcap));
        w.add_interface(&Interface::new(LinkType::ETHERNET, 0))
            .unwrap();
        for s in [0u64, 1, 2, 70] {
            w.write_frame(&Frame::new(
                0,
                LinkType::ETHERNET,
                s * 1_000_000_000,
                &[0; 100],
            ))
            .unwrap();
        }
        assert_eq!(
            names(&w.finish().unwrap()),
            ["x00-", "x00-1", "x00-2", "x01-"]
        );
    }

    #[test]
    fn no_frames_still_makes_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("empty.pcap").to_string_lossy().into_owned();
        let w = RotatingWriter::new(t, Rotation::default(), WriterOptions::new(Format::Pcap));
        let files = w.finish().unwrap();
        assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), 24);
    }
}
