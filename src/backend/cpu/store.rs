//! The CPU backend's tensors: buffers it owns, and views that name a range of one (a
//! model's parameters live as views in a few arenas; see [`crate::backend::Backend::view`]).
//!
//! An op reads its inputs by index (`store[id]`, a view resolving to its range) and gets
//! its output moved out of the store for the duration (`with_output`), so that it can
//! write one tensor while reading others without copying either.

use std::ops::{Index, IndexMut, Range};

#[derive(Clone, Copy, Debug)]
struct View {
    base: usize,
    offset: usize,
    len: usize,
}

#[derive(Default)]
pub struct Store {
    /// An owned tensor's values (empty until its allocation has run); empty for a view.
    data: Vec<Vec<f32>>,
    views: Vec<Option<View>>,
}

impl Store {
    /// A new owned tensor, empty until [`Store::fill`] gives it its values.
    pub fn add_owned(&mut self) -> usize {
        self.data.push(Vec::new());
        self.views.push(None);
        self.data.len() - 1
    }

    /// A new view of `len` elements of `base` from `offset`.
    pub fn add_view(&mut self, base: usize, offset: usize, len: usize) -> usize {
        assert!(self.views[base].is_none(), "a view of a view");
        self.data.push(Vec::new());
        self.views.push(Some(View { base, offset, len }));
        self.data.len() - 1
    }

    /// Gives an owned tensor its values.
    pub fn fill(&mut self, id: usize, values: Vec<f32>) {
        assert!(self.views[id].is_none(), "a view has no values of its own");
        self.data[id] = values;
    }

    /// Where tensor `id`'s values are: the buffer that holds them and their range there.
    fn home(&self, id: usize) -> (usize, Range<usize>) {
        match self.views[id] {
            Some(View { base, offset, len }) => (base, offset..offset + len),
            None => (id, 0..self.data[id].len()),
        }
    }

    /// Moves tensor `id`'s values out: an owned buffer itself, a copy of a view's range.
    /// [`Store::put`] puts them back.
    pub fn take(&mut self, id: usize) -> Vec<f32> {
        match self.views[id] {
            Some(_) => self[id].to_vec(),
            None => std::mem::take(&mut self.data[id]),
        }
    }

    /// Puts back what [`Store::take`] moved out.
    pub fn put(&mut self, id: usize, values: Vec<f32>) {
        match self.views[id] {
            Some(_) => self[id].copy_from_slice(&values),
            None => self.data[id] = values,
        }
    }
}

impl Index<usize> for Store {
    type Output = [f32];

    fn index(&self, id: usize) -> &[f32] {
        let (home, range) = self.home(id);
        &self.data[home][range]
    }
}

impl IndexMut<usize> for Store {
    fn index_mut(&mut self, id: usize) -> &mut [f32] {
        let (home, range) = self.home(id);
        &mut self.data[home][range]
    }
}

/// Moves one tensor's buffer out of the store so that it can be written while others are
/// read (a view's whole arena moves, and the view's range is written). Panics (a bug) if
/// the closure reads `out`, or another view of the same arena.
pub fn with_output(store: &mut Store, out: usize, f: impl FnOnce(&Store, &mut [f32])) {
    let (home, range) = store.home(out);
    let mut data = std::mem::take(&mut store.data[home]);
    f(store, &mut data[range]);
    store.data[home] = data;
}

/// Like [`with_output`] for several outputs at once; a view among them is written through
/// a copy, so that two views of one arena can be outputs of the same op.
pub fn with_outputs<const K: usize>(store: &mut Store, outs: [usize; K], f: impl FnOnce(&Store, &mut [Vec<f32>; K])) {
    let mut data: [Vec<f32>; K] = outs.map(|id| store.take(id));
    f(store, &mut data);
    for (id, d) in outs.into_iter().zip(data) {
        store.put(id, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_and_writes_its_range_of_the_base() {
        let mut store = Store::default();
        let base = store.add_owned();
        store.fill(base, vec![0.0; 8]);
        let view = store.add_view(base, 4, 3);
        store[view].copy_from_slice(&[1.0, 2.0, 3.0]);
        assert_eq!(&store[base], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0]);
        with_output(&mut store, view, |_, o| o[0] = 9.0);
        assert_eq!(store[base][4], 9.0);
        let other = store.add_view(base, 0, 2);
        with_outputs(&mut store, [view, other], |_, [a, b]| {
            a[1] = 7.0;
            b[0] = 5.0;
        });
        assert_eq!(&store[base], &[5.0, 0.0, 0.0, 0.0, 9.0, 7.0, 3.0, 0.0]);
    }
}
