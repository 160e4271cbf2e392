//! The bits of Go behaviour strategic merge patch depends on: Go's value types as seen by
//! `reflect.TypeOf` on decoded JSON, `sort.SliceStable` (whose exact swap sequence decides
//! the order of list elements when Kubernetes' comparator is not a strict order),
//! `deduplicateScalars`, and `fmt`'s `%v` / `%s` rendering used in Kubernetes' messages.

use serde_json::{Map, Number, Value};

/// The Go dynamic type of a decoded JSON value (Kubernetes decodes whole numbers as `int64`
/// and other numbers as `float64`, so they are distinct types, as they are here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GoType {
    Map,
    Slice,
    String,
    Int,
    Float,
    Bool,
    Nil,
}

/// `reflect.TypeOf(v)` for a decoded JSON value.
pub(super) fn go_type(v: &Value) -> GoType {
    match v {
        Value::Object(_) => GoType::Map,
        Value::Array(_) => GoType::Slice,
        Value::String(_) => GoType::String,
        Value::Number(n) if n.is_f64() => GoType::Float,
        Value::Number(_) => GoType::Int,
        Value::Bool(_) => GoType::Bool,
        Value::Null => GoType::Nil,
    }
}

/// `reflect.TypeOf(v).String()`.
pub(super) fn type_name(v: &Value) -> &'static str {
    match go_type(v) {
        GoType::Map => "map[string]interface {}",
        GoType::Slice => "[]interface {}",
        GoType::String => "string",
        GoType::Int => "int64",
        GoType::Float => "float64",
        GoType::Bool => "bool",
        GoType::Nil => "<nil>",
    }
}

/// `fmt.Sprintf("%v", v)`: maps as `map[k:v ...]` with sorted keys, slices as `[a b]`.
pub(super) fn fmt_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => fmt_number(n),
        Value::Array(items) => fmt_slice(items),
        Value::Object(m) => fmt_map(m),
    }
}

/// `fmt.Sprintf("%v", s)` for a slice.
pub(super) fn fmt_slice(items: &[Value]) -> String {
    let parts: Vec<String> = items.iter().map(fmt_v).collect();
    format!("[{}]", parts.join(" "))
}

/// `fmt.Sprintf("%v", m)` for a map.
pub(super) fn fmt_map(m: &Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = entries
        .into_iter()
        .map(|(k, v)| format!("{k}:{}", fmt_v(v)))
        .collect();
    format!("map[{}]", parts.join(" "))
}

/// `fmt.Sprintf("%s", v)`: strings as is, anything else as `%!s(type=value)`.
pub(super) fn fmt_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".to_string(),
        other => format!("%!s({}={})", type_name(other), fmt_v(other)),
    }
}

/// `%v` of an `int64` or `float64`: floats print as `%g` with the shortest representation,
/// in exponent form (`1e+06`) when the decimal exponent is below -4 or at least 6.
fn fmt_number(n: &Number) -> String {
    let Some(f) = n.as_f64().filter(|_| n.is_f64()) else {
        return n.to_string();
    };
    if !f.is_finite() {
        return f.to_string();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f != 0.0 && !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        f.to_string()
    }
}

/// Kubernetes' `deduplicateScalars`: removes later duplicates by moving the last element
/// into their place (so it does not preserve order; callers re-sort afterwards).
pub(super) fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    if s.is_empty() {
        return s;
    }
    let mut length = s.len() - 1;
    let mut i = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i] == s[j] {
                s.swap(j, length);
                s.truncate(length);
                length -= 1;
                // Go's `j--` followed by the loop's `j++` revisits index j.
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// Go's `sort.SliceStable` (insertion sort on blocks of 20, then `symMerge`), reproduced
/// swap for swap so that a comparator that is not a strict weak order (Kubernetes'
/// `normalizeSliceOrder` one treats unknown elements as smaller than everything) yields
/// the same permutation as in Kubernetes.
pub(super) fn slice_stable<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let mut s = Sorter { data, less };
    let n = s.data.len();
    let mut block_size = 20;
    let (mut a, mut b) = (0, block_size);
    while b <= n {
        s.insertion_sort(a, b);
        a = b;
        b += block_size;
    }
    s.insertion_sort(a, n);
    while block_size < n {
        a = 0;
        b = 2 * block_size;
        while b <= n {
            s.sym_merge(a, a + block_size, b);
            a = b;
            b += 2 * block_size;
        }
        let m = a + block_size;
        if m < n {
            s.sym_merge(a, m, n);
        }
        block_size *= 2;
    }
}

struct Sorter<'a, T, F> {
    data: &'a mut [T],
    less: F,
}

impl<T, F: Fn(&T, &T) -> bool> Sorter<'_, T, F> {
    fn less(&self, i: usize, j: usize) -> bool {
        (self.less)(&self.data[i], &self.data[j])
    }

    fn insertion_sort(&mut self, a: usize, b: usize) {
        for i in a + 1..b {
            let mut j = i;
            while j > a && self.less(j, j - 1) {
                self.data.swap(j, j - 1);
                j -= 1;
            }
        }
    }

    fn sym_merge(&mut self, a: usize, m: usize, b: usize) {
        if m - a == 1 {
            let (mut i, mut j) = (m, b);
            while i < j {
                let h = (i + j) / 2;
                if self.less(h, a) {
                    i = h + 1;
                } else {
                    j = h;
                }
            }
            let mut k = a;
            while k + 1 < i {
                self.data.swap(k, k + 1);
                k += 1;
            }
            return;
        }
        if b - m == 1 {
            let (mut i, mut j) = (a, m);
            while i < j {
                let h = (i + j) / 2;
                if !self.less(m, h) {
                    i = h + 1;
                } else {
                    j = h;
                }
            }
            let mut k = m;
            while k > i {
                self.data.swap(k, k - 1);
                k -= 1;
            }
            return;
        }
        let mid = (a + b) / 2;
        let n = mid + m;
        let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
        let p = n - 1;
        while start < r {
            let c = (start + r) / 2;
            if !self.less(p - c, c) {
                start = c + 1;
            } else {
                r = c;
            }
        }
        let end = n - start;
        if start < m && m < end {
            self.rotate(start, m, end);
        }
        if a < start && start < mid {
            self.sym_merge(a, start, mid);
        }
        if mid < end && end < b {
            self.sym_merge(mid, end, b);
        }
    }

    fn rotate(&mut self, a: usize, m: usize, b: usize) {
        let mut i = m - a;
        let mut j = b - m;
        while i != j {
            if i > j {
                self.swap_range(m - i, m, j);
                i -= j;
            } else {
                self.swap_range(m - i, m + j - i, i);
                j -= i;
            }
        }
        self.swap_range(m - i, m, i);
    }

    fn swap_range(&mut self, a: usize, b: usize, n: usize) {
        for i in 0..n {
            self.data.swap(a + i, b + i);
        }
    }
}
