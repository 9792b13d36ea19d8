//! Where host mode's filter runs: in the kernel when it can, in user space
//! when it must.
//!
//! The expression is compiled for the RAW link type (packets start at the
//! IP header, as the netfilter hooks see them) and the Linux socket
//! target. The iptables `bpf` match takes at most 64 instructions
//! (`XT_BPF_MAX_NUM_INSTR`); a program that fits goes into the rules
//! whole, and packets it rejects never leave the kernel. A longer one is
//! split at its top-level `and`s: the conjuncts that fit together (each
//! selects a superset of what the whole selects) go into the kernel, and
//! the whole program runs in user space on what they let through; a
//! packet it rejects gets an immediate accept verdict (the fast path,
//! counted as bypassed) without reaching the handler. When no conjunct
//! fits, or the rule tool has no `bpf` match (nft), every packet of the
//! chosen directions is queued and user space filters all of them.

use sluice_bpf::Program;
use sluice_filter::ast::Node;
use sluice_filter::{Options, Target};
use sluice_linux::nfqueue::rules::XT_BPF_MAX_INSNS;
use sluice_wire::LinkType;

use crate::host::Error;

/// How packets are selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The expression as given (`None`: every packet).
    pub expression: Option<String>,
    /// The program in the rules' `bpf` match, if any.
    pub kernel: Option<Program>,
    /// The expression that program was compiled from: the whole
    /// expression or the conjuncts of it that fit.
    pub kernel_expression: Option<String>,
    /// The program run in user space on every queued packet, when the
    /// kernel selects more than the expression.
    pub user: Option<Program>,
    /// Why the kernel does not select exactly (for reports).
    pub reason: Option<String>,
}

impl Selection {
    /// Every packet, no program.
    pub fn all() -> Selection {
        Selection {
            expression: None,
            kernel: None,
            kernel_expression: None,
            user: None,
            reason: None,
        }
    }

    /// One line for reports: where the filter runs.
    pub fn describe(&self) -> String {
        match (&self.expression, &self.kernel, &self.user) {
            (None, _, _) => "every packet (no filter)".to_owned(),
            (Some(_), Some(k), None) => {
                format!(
                    "in the kernel (iptables bpf match, {} instructions)",
                    k.len()
                )
            }
            (Some(_), Some(k), Some(u)) => format!(
                "in the kernel by `{}` ({} instructions), then in user space ({} instructions): {}",
                self.kernel_expression.as_deref().unwrap_or(""),
                k.len(),
                u.len(),
                self.reason.as_deref().unwrap_or("")
            ),
            (Some(_), None, Some(u)) => format!(
                "in user space ({} instructions): {}",
                u.len(),
                self.reason.as_deref().unwrap_or("")
            ),
            (Some(_), None, None) => "every packet".to_owned(),
        }
    }
}

/// The compile options of host mode.
pub fn options() -> Options {
    Options {
        linktype: LinkType::RAW,
        target: Target::LinuxSocket,
        ..Options::default()
    }
}

fn compile(expr: &str) -> Result<Program, Error> {
    sluice_filter::compile(expr, &options()).map_err(|e| Error::Filter {
        expression: expr.to_owned(),
        rendered: e.render(expr),
    })
}

/// Strips parentheses that wrap the whole expression.
fn unwrap_parens(mut e: &str) -> &str {
    loop {
        let t = e.trim();
        if !(t.starts_with('(') && t.ends_with(')')) {
            return t;
        }
        // The first '(' must close at the very end.
        let mut depth = 0usize;
        let mut closes_at_end = true;
        for (i, c) in t.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && i + 1 < t.len() {
                        closes_at_end = false;
                        break;
                    }
                }
                _ => {}
            }
        }
        if !closes_at_end {
            return t;
        }
        e = &t[1..t.len() - 1];
    }
}

/// The top-level conjuncts of `expr`, as text, left to right (at most
/// 32; the expression itself when it is not an `and`). Each selects a
/// superset of what the whole selects. A conjunct that inherits
/// qualifiers from the one before (`port 80 and 443`) does not compile
/// alone and is left out by the caller.
pub fn conjuncts(expr: &str) -> Vec<String> {
    let e = unwrap_parens(expr);
    let Ok(ast) = sluice_filter::parse::parse(e) else {
        return vec![e.to_owned()];
    };
    let Some(root) = ast.root else {
        return Vec::new();
    };
    // The left spine of `((a and b) and c)`: a, then b, c.
    let mut rights = Vec::new();
    let mut n = root;
    while let Some(Node::And(a, b)) = ast.nodes.get(n).map(|s| &s.node) {
        if rights.len() >= 31 {
            break;
        }
        rights.push(*b);
        n = *a;
    }
    let mut ends = vec![ast.nodes.get(n).map_or(e.len(), |s| s.span.end)];
    ends.extend(
        rights
            .iter()
            .rev()
            .map(|&r| ast.nodes.get(r).map_or(e.len(), |s| s.span.end)),
    );
    let mut out = Vec::with_capacity(ends.len());
    let mut start = 0;
    for (i, &end) in ends.iter().enumerate() {
        if i + 1 == ends.len() {
            out.push(e[start..].trim().to_owned());
            break;
        }
        // After a conjunct: closing parentheses of its own, then the
        // keyword.
        let Some(rest) = e.get(end..) else {
            return vec![e.to_owned()];
        };
        let skipped = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_whitespace() || c == ')')
                .len();
        let kw = end + skipped;
        let after = if e[kw..].starts_with("and") {
            kw + 3
        } else if e[kw..].starts_with("&&") {
            kw + 2
        } else {
            return vec![e.to_owned()];
        };
        out.push(e[start..kw].trim().to_owned());
        start = after;
    }
    out
}

/// Decides where `expr` runs. `kernel_allowed` is false when the rule
/// tool has no `bpf` match or the user asked for user-space filtering.
pub fn plan(expr: Option<&str>, kernel_allowed: bool) -> Result<Selection, Error> {
    let Some(expr) = expr.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(Selection::all());
    };
    let whole = compile(expr)?;
    let mut sel = Selection {
        expression: Some(expr.to_owned()),
        kernel: None,
        kernel_expression: None,
        user: None,
        reason: None,
    };
    if !kernel_allowed {
        sel.user = Some(whole);
        sel.reason = Some("the rules have no bpf match here".to_owned());
        return Ok(sel);
    }
    if whole.len() <= XT_BPF_MAX_INSNS {
        sel.kernel = Some(whole);
        sel.kernel_expression = Some(expr.to_owned());
        return Ok(sel);
    }
    // Too long: keep the conjuncts that fit together.
    let mut chosen: Vec<String> = Vec::new();
    let mut best: Option<Program> = None;
    for c in conjuncts(expr) {
        let mut candidate = chosen.clone();
        candidate.push(c);
        let text = candidate
            .iter()
            .map(|t| format!("({t})"))
            .collect::<Vec<_>>()
            .join(" and ");
        if let Ok(p) = sluice_filter::compile(&text, &options())
            && p.len() <= XT_BPF_MAX_INSNS
        {
            chosen = candidate;
            best = Some(p);
        }
    }
    let n = whole.len();
    sel.user = Some(whole);
    match best {
        Some(p) => {
            sel.kernel_expression = Some(
                chosen
                    .iter()
                    .map(|t| format!("({t})"))
                    .collect::<Vec<_>>()
                    .join(" and "),
            );
            sel.kernel = Some(p);
            sel.reason = Some(format!(
                "the whole program has {n} instructions and the iptables bpf match takes at most {XT_BPF_MAX_INSNS}"
            ));
        }
        None => {
            sel.reason = Some(format!(
                "the program has {n} instructions, the iptables bpf match takes at most {XT_BPF_MAX_INSNS}, and no part of the expression fits alone"
            ));
        }
    }
    Ok(sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_programs_go_into_the_kernel() {
        let s = plan(Some("tcp port 80"), true).unwrap();
        assert!(s.kernel.as_ref().unwrap().len() <= XT_BPF_MAX_INSNS);
        assert!(s.user.is_none());
        assert!(
            s.describe()
                .starts_with("in the kernel (iptables bpf match, ")
        );
        let s = plan(Some("tcp port 80"), false).unwrap();
        assert!(s.kernel.is_none() && s.user.is_some());
        assert_eq!(plan(None, true).unwrap(), Selection::all());
        assert_eq!(plan(Some("  "), true).unwrap(), Selection::all());
    }

    #[test]
    fn long_programs_are_split_at_and() {
        let hosts: Vec<String> = (1..=40).map(|i| format!("host 10.77.9.{i}")).collect();
        let expr = format!("tcp and ({})", hosts.join(" or "));
        let s = plan(Some(&expr), true).unwrap();
        let user = s.user.as_ref().unwrap();
        assert!(user.len() > XT_BPF_MAX_INSNS);
        assert_eq!(s.kernel_expression.as_deref(), Some("(tcp)"));
        assert!(s.kernel.as_ref().unwrap().len() <= XT_BPF_MAX_INSNS);
        assert!(s.describe().contains("then in user space"));
        // Nothing fits alone: all in user space.
        let only = hosts.join(" or ");
        let s = plan(Some(&only), true).unwrap();
        assert!(s.kernel.is_none());
        assert!(s.reason.unwrap().contains("no part of the expression fits"));
    }

    #[test]
    fn conjuncts_in_order() {
        assert_eq!(
            conjuncts("tcp and port 80 and not host 10.77.0.1"),
            vec!["tcp", "port 80", "not host 10.77.0.1"]
        );
        assert_eq!(conjuncts("udp or icmp"), vec!["udp or icmp"]);
        assert_eq!(
            conjuncts("((udp or icmp) and (host 10.77.0.1 or host 10.77.0.2) && len > 100)"),
            vec![
                "(udp or icmp)",
                "(host 10.77.0.1 or host 10.77.0.2)",
                "len > 100"
            ]
        );
        // `or` after `and` groups to the left: one conjunct.
        assert_eq!(
            conjuncts("tcp and port 80 or udp"),
            vec!["tcp and port 80 or udp"]
        );
    }

    #[test]
    fn bad_expressions_render_a_caret() {
        let Err(Error::Filter { rendered, .. }) = plan(Some("tcp port"), true) else {
            panic!("compiled");
        };
        assert!(rendered.contains('^'));
    }
}
