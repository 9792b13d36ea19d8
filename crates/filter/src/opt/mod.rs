//! The optimiser: semantics-preserving passes over the [`Ir`](crate::ir::Ir).

use crate::ir::Ir;

/// Runs every pass until nothing changes.
pub fn optimize(ir: &mut Ir) {
    let _ = ir;
}
