//! `--write FILE`: a tap that saves what passes (and, if asked, what the
//! handler dropped) to pcapng, with the rotation of `capture`.
//!
//! Frames are copied into batches and handed to a writer thread over a
//! bounded queue, so a slow disk never stalls forwarding: when the queue
//! is full the batch is not saved and its frames are counted
//! ([`TapSummary::dropped`]). The file has four interfaces: the upper and
//! lower interfaces for frames that passed (each frame on the interface it
//! was read from; frames the host sent — read from upper — are marked
//! outbound, frames from the network inbound), and the same two again for
//! frames the handler dropped, so `tshark -i` or an interface filter tells
//! them apart.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use sluice_pcap::rotate::{RotatingWriter, Rotation};
use sluice_pcap::{Direction, EpbFlags, Interface, RecordMeta, WriterOptions};
use sluice_wire::LinkType;

use super::error::{Error, ErrorKind, Result};
use crate::frame::Side;

/// Where and how the tap writes.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct TapConfig {
    /// File name or strftime template (as `capture -w`).
    pub path: String,
    /// `-C`, `-G`, `-W`.
    pub rotation: Rotation,
    /// Also save the frames the handler dropped.
    pub dropped: bool,
    /// Batches the queue holds before the tap starts dropping.
    pub queue_batches: usize,
}

impl TapConfig {
    /// Passed frames only, no rotation, 256 batches of queue.
    pub fn new(path: impl Into<String>) -> TapConfig {
        TapConfig {
            path: path.into(),
            rotation: Rotation::default(),
            dropped: false,
            queue_batches: 256,
        }
    }
}

/// What the tap did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TapSummary {
    /// Frames written.
    pub written: u64,
    /// Frames not written because the queue was full.
    pub dropped: u64,
    /// The files written, in order.
    pub files: Vec<std::path::PathBuf>,
}

/// One frame for the tap.
#[derive(Debug)]
pub(crate) struct TapFrame {
    pub side: Side,
    pub dropped: bool,
    pub ts_ns: u64,
    pub data: Vec<u8>,
}

/// What the writer thread returns: frames written and files closed.
type WriterResult = Result<(u64, Vec<std::path::PathBuf>)>;

/// The tap's sending half and its writer thread.
#[derive(Debug)]
pub(crate) struct Tap {
    tx: Option<SyncSender<Vec<TapFrame>>>,
    thread: Option<JoinHandle<WriterResult>>,
    dropped: u64,
    pub(crate) with_dropped: bool,
}

impl Tap {
    /// Starts the writer for a bridge between `upper` and `lower`. The first
    /// file is created at once, so a bad path fails here.
    pub(crate) fn start(cfg: &TapConfig, upper: &str, lower: &str) -> Result<Tap> {
        // pcapng always: the direction flags and the dropped-frame
        // interfaces need it. A name that asks for classic pcap is refused
        // rather than silently written in another format.
        if sluice_pcap::Format::from_path(std::path::Path::new(&cfg.path))
            == Some(sluice_pcap::Format::Pcap)
        {
            return Err(Error::new(
                ErrorKind::Tap,
                format!(
                    "--write {}: the tap writes pcapng (direction flags, one interface per side); name the file .pcapng",
                    cfg.path
                ),
            ));
        }
        let opts = WriterOptions::new(sluice_pcap::Format::PcapNg);
        let mut w = RotatingWriter::new(cfg.path.clone(), cfg.rotation, opts);
        for (name, what) in [
            (upper, "upper, passed"),
            (lower, "lower, passed"),
            (upper, "upper, dropped by the handler"),
            (lower, "lower, dropped by the handler"),
        ] {
            let mut i = Interface::new(LinkType::ETHERNET, 262_144);
            i.name = Some(name.to_owned());
            i.description = Some(format!("sluice bridge {what}"));
            w.add_interface(&i).map_err(|e| {
                Error::with_source(ErrorKind::Tap, format!("writing {}", cfg.path), e)
            })?;
        }
        // Open the first file now: errors belong at start.
        w.writer_for(sluice_linux::bridge_io::realtime_ns(), 0)
            .map_err(|e| Error::with_source(ErrorKind::Tap, format!("creating {}", cfg.path), e))?;
        let (tx, rx) = sync_channel::<Vec<TapFrame>>(cfg.queue_batches.max(1));
        let path = cfg.path.clone();
        let thread = std::thread::Builder::new()
            .name("sluice-tap".into())
            .spawn(move || write_loop(w, rx, &path))
            .map_err(|e| Error::with_source(ErrorKind::Tap, "starting the tap thread", e))?;
        Ok(Tap {
            tx: Some(tx),
            thread: Some(thread),
            dropped: 0,
            with_dropped: cfg.dropped,
        })
    }

    /// Queues a batch; counts it as dropped when the queue is full.
    pub(crate) fn push(&mut self, batch: Vec<TapFrame>) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        match self.tx.as_ref().map(|t| t.try_send(batch)) {
            Some(Ok(())) => {}
            Some(Err(TrySendError::Full(_))) | Some(Err(TrySendError::Disconnected(_))) | None => {
                self.dropped += n
            }
        }
    }

    /// Flushes and closes the files.
    pub(crate) fn finish(mut self) -> Result<TapSummary> {
        drop(self.tx.take());
        let (written, files) = match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r?,
            Some(Err(_)) => {
                return Err(Error::new(ErrorKind::Tap, "the tap thread panicked"));
            }
            None => (0, Vec::new()),
        };
        Ok(TapSummary {
            written,
            dropped: self.dropped,
            files,
        })
    }
}

fn write_loop(mut w: RotatingWriter, rx: Receiver<Vec<TapFrame>>, path: &str) -> WriterResult {
    let err = |e| Error::with_source(ErrorKind::Tap, format!("writing {path}"), e);
    let mut written = 0u64;
    let mut files = Vec::new();
    for batch in rx {
        for f in batch {
            let iface = match (f.side, f.dropped) {
                (Side::Upper, false) => 0,
                (Side::Lower, false) => 1,
                (Side::Upper, true) => 2,
                (Side::Lower, true) => 3,
            };
            let dir = match f.side {
                Side::Upper => Direction::Outbound,
                Side::Lower => Direction::Inbound,
            };
            let meta = RecordMeta {
                interface_id: iface,
                ts_ns: f.ts_ns,
                origlen: f.data.len() as u32,
                flags: Some(EpbFlags::from_direction(dir)),
            };
            w.write_packet(&meta, &f.data).map_err(err)?;
            written += 1;
        }
        files.extend(w.take_closed());
    }
    files.extend(w.finish().map_err(err)?);
    Ok((written, files))
}
