//! A pickle reader that never runs code: the data opcodes of protocols 2–5 into a value tree, with
//! memo-shared objects, within the caps of [`crate::limits`].
//!
//! Python's unpickler is a stack machine; this is the same machine restricted to plain data (`None`,
//! `bool`, `int`, `float`, `str`, `bytes`, `list`, `tuple`, `dict`). Objects live in an arena, so a memo
//! reference (`GET`) shares an object exactly as Python does, and a container filled after being
//! memoised is seen complete. Every opcode that can name or call Python code (`GLOBAL`,
//! `STACK_GLOBAL`, `REDUCE`, `BUILD`, `INST`, `OBJ`, `NEWOBJ`, `NEWOBJ_EX`, `EXT*`, `PERSID`,
//! `BINPERSID`, out-of-band buffers) is refused, with one exception: protocol 2 has no `bytes` opcode,
//! so Python writes `bytes` as `_codecs.encode(<str>, "latin1")` (and `b""` as `builtins.bytes()`).
//! Exactly these two calls, with exactly those argument types, are recognised as data and decoded here;
//! nothing is looked up or called.
//!
//! Declared lengths are checked against the bytes left in the file before anything is allocated; the
//! object count, memo, stack, nesting depth and the copies made of shared objects are capped.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use num_bigint::BigInt;
use serde_pickle::Value;

use crate::limits::{
    MAX_PICKLE_DEPTH, MAX_PICKLE_INT_BYTES, MAX_PICKLE_OBJECTS, PICKLE_SHARED_COPY_FACTOR,
};

/// Why a pickle could not be read.
#[derive(Debug)]
pub enum PickleError {
    /// The input ended at `pos` before the pickle was complete.
    Truncated { pos: u64 },
    /// Bytes follow the `STOP` opcode at `pos`.
    Trailing { pos: u64 },
    /// A reference to a Python class or function (other than the protocol-2 `bytes` pattern).
    Global { module: String, name: String },
    /// An opcode that calls code or that this reader does not know.
    Opcode { op: u8, pos: u64 },
    /// The pickle is malformed (stack underflow, wrong types for an opcode, bad memo index, ...).
    Malformed { pos: u64, message: String },
    /// A cap of [`crate::limits`] was exceeded.
    Limit(String),
    /// Reading the input failed.
    Io(std::io::Error),
}

impl std::fmt::Display for PickleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PickleError::Truncated { pos } => write!(f, "the pickle ends early, at byte {pos}"),
            PickleError::Trailing { pos } => write!(f, "extra data after the pickle at byte {pos}"),
            PickleError::Global { module, name } => {
                write!(f, "the pickle refers to the Python object {module}.{name}")
            }
            PickleError::Opcode { op, pos } => {
                write!(f, "{} at byte {pos}", describe_opcode(*op))
            }
            PickleError::Malformed { pos, message } => {
                write!(f, "malformed pickle at byte {pos}: {message}")
            }
            PickleError::Limit(m) => f.write_str(m),
            PickleError::Io(e) => write!(f, "reading failed: {e}"),
        }
    }
}

/// Opcodes that run or name Python code, by name (for the error message).
fn describe_opcode(op: u8) -> String {
    let name = match op {
        b'c' => "GLOBAL",
        0x93 => "STACK_GLOBAL",
        b'R' => "REDUCE",
        b'b' => "BUILD",
        b'i' => "INST",
        b'o' => "OBJ",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        0x82..=0x84 => "EXT",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        0x97 => "NEXT_BUFFER (out-of-band data)",
        0x98 => "READONLY_BUFFER (out-of-band data)",
        _ => return format!("unsupported pickle opcode 0x{op:02x}"),
    };
    format!("pickle opcode {name}, which builds Python objects by calling code,")
}

/// Whether `e` means "this pickle names or calls Python code".
pub fn is_code(e: &PickleError) -> bool {
    match e {
        PickleError::Global { .. } => true,
        PickleError::Opcode { op, .. } => matches!(
            op,
            b'c' | 0x93 | b'R' | b'b' | b'i' | b'o' | 0x81 | 0x92 | 0x82..=0x84 | b'P' | b'Q'
        ),
        _ => false,
    }
}

type Id = u32;

/// One object of the arena.
#[derive(Debug)]
enum Node {
    None,
    Bool(bool),
    Int(i64),
    /// Little-endian two's complement, more than 8 bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    /// `_codecs.encode`: the callable of protocol 2's bytes pattern.
    CodecsEncode,
    /// `builtins.bytes` (`__builtin__.bytes`): protocol 2's `b""`.
    BytesType,
}

/// The input with its position and the number of bytes it holds.
struct Input<R> {
    r: R,
    pos: u64,
    len: u64,
}

impl<R: Read> Input<R> {
    fn byte(&mut self) -> Result<u8, PickleError> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), PickleError> {
        match self.r.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(PickleError::Truncated { pos: self.len })
            }
            Err(e) => Err(PickleError::Io(e)),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let mut b = [0u8; N];
        self.exact(&mut b)?;
        Ok(b)
    }

    /// `n` bytes, after checking that the input holds them (no allocation for a false claim).
    fn vec(&mut self, n: u64) -> Result<Vec<u8>, PickleError> {
        if n > self.len.saturating_sub(self.pos) {
            return Err(PickleError::Truncated { pos: self.len });
        }
        let n = usize::try_from(n).map_err(|_| PickleError::Truncated { pos: self.len })?;
        let mut v = vec![0u8; n];
        self.exact(&mut v)?;
        Ok(v)
    }

    /// Whether bytes follow (used after `STOP`).
    fn at_end(&mut self) -> Result<bool, PickleError> {
        let mut b = [0u8; 1];
        loop {
            match self.r.read(&mut b) {
                Ok(0) => return Ok(true),
                Ok(_) => return Ok(false),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(PickleError::Io(e)),
            }
        }
    }
}

/// The stack machine's state.
struct Machine {
    nodes: Vec<Node>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u32, Id>,
    /// Position of the current opcode, for messages.
    at: u64,
}

impl Machine {
    fn malformed(&self, message: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            pos: self.at,
            message: message.into(),
        }
    }

    fn push_node(&mut self, n: Node) -> Result<(), PickleError> {
        if self.nodes.len() >= MAX_PICKLE_OBJECTS {
            return Err(PickleError::Limit(format!(
                "the pickle holds more than {MAX_PICKLE_OBJECTS} objects (limit)"
            )));
        }
        let id = self.nodes.len() as Id;
        self.nodes.push(n);
        self.push(id)
    }

    fn push(&mut self, id: Id) -> Result<(), PickleError> {
        if self.stack.len() >= MAX_PICKLE_OBJECTS {
            return Err(PickleError::Limit(format!(
                "the pickle's stack grows beyond {MAX_PICKLE_OBJECTS} entries (limit)"
            )));
        }
        self.stack.push(id);
        Ok(())
    }

    fn pop(&mut self) -> Result<Id, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("stack underflow"));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.malformed("stack underflow"))
    }

    fn top(&self) -> Result<Id, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("stack underflow"));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.malformed("stack underflow"))
    }

    /// The items above the topmost mark, removing them and the mark.
    fn pop_mark(&mut self) -> Result<Vec<Id>, PickleError> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| self.malformed("no MARK on the stack"))?;
        Ok(self.stack.split_off(m))
    }

    fn memo_put(&mut self, idx: u32) -> Result<(), PickleError> {
        let id = self.top()?;
        if self.memo.len() >= MAX_PICKLE_OBJECTS && !self.memo.contains_key(&idx) {
            return Err(PickleError::Limit(format!(
                "the pickle's memo grows beyond {MAX_PICKLE_OBJECTS} entries (limit)"
            )));
        }
        self.memo.insert(idx, id);
        Ok(())
    }

    fn memo_get(&mut self, idx: u32) -> Result<(), PickleError> {
        let id = *self
            .memo
            .get(&idx)
            .ok_or_else(|| self.malformed(format!("memo entry {idx} is not defined")))?;
        self.push(id)
    }

    fn str_of(&self, id: Id) -> Option<&str> {
        match &self.nodes[id as usize] {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `APPEND`/`APPENDS` onto the list `list`.
    fn extend_list(&mut self, list: Id, items: Vec<Id>) -> Result<(), PickleError> {
        match &mut self.nodes[list as usize] {
            Node::List(v) => {
                v.extend(items);
                Ok(())
            }
            _ => Err(self.malformed("APPEND to something that is not a list")),
        }
    }

    /// `SETITEM`/`SETITEMS` into the dict `dict`.
    fn extend_dict(&mut self, dict: Id, items: Vec<Id>) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.malformed("SETITEMS with an odd number of items"));
        }
        let pairs = items.chunks_exact(2).map(|p| (p[0], p[1]));
        match &mut self.nodes[dict as usize] {
            Node::Dict(v) => {
                v.extend(pairs);
                Ok(())
            }
            _ => Err(self.malformed("SETITEM on something that is not a dict")),
        }
    }

    /// `GLOBAL module name`: only the two callables of protocol 2's bytes pattern are known.
    fn global(&mut self, module: String, name: String) -> Result<(), PickleError> {
        let node = match (module.as_str(), name.as_str()) {
            ("_codecs", "encode") => Node::CodecsEncode,
            ("__builtin__" | "builtins", "bytes") => Node::BytesType,
            _ => return Err(PickleError::Global { module, name }),
        };
        self.push_node(node)
    }

    /// `REDUCE`: only `_codecs.encode(str, "latin1")` and `bytes()` are accepted, as data.
    fn reduce(&mut self) -> Result<(), PickleError> {
        let args = self.pop()?;
        let func = self.pop()?;
        let refuse = |m: &Machine| PickleError::Opcode {
            op: b'R',
            pos: m.at,
        };
        let arg_ids = match &self.nodes[args as usize] {
            Node::Tuple(v) => v.clone(),
            _ => return Err(refuse(self)),
        };
        let bytes = match (&self.nodes[func as usize], arg_ids.as_slice()) {
            (Node::CodecsEncode, [s, enc]) if self.str_of(*enc) == Some("latin1") => {
                let s = self.str_of(*s).ok_or_else(|| refuse(self))?;
                let mut out = Vec::with_capacity(s.len());
                for c in s.chars() {
                    let b = u8::try_from(u32::from(c)).map_err(|_| {
                        self.malformed(
                            "_codecs.encode(..., \"latin1\") of a character above U+00FF",
                        )
                    })?;
                    out.push(b);
                }
                out
            }
            (Node::BytesType, []) => Vec::new(),
            _ => return Err(refuse(self)),
        };
        self.push_node(Node::Bytes(bytes))
    }
}

/// Read one pickle of `len` bytes from `r` into a value tree.
pub fn read_value<R: Read>(r: R, len: u64) -> Result<Value, PickleError> {
    let mut input = Input { r, pos: 0, len };
    let mut m = Machine {
        nodes: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        at: 0,
    };
    let root = loop {
        m.at = input.pos;
        let op = input.byte()?;
        match op {
            0x80 => {
                let v = input.byte()?;
                if !(2..=5).contains(&v) {
                    return Err(
                        m.malformed(format!("pickle protocol {v} (protocols 2 to 5 are read)"))
                    );
                }
            }
            0x95 => {
                input.array::<8>()?; // FRAME: a length hint only
            }
            b'.' => break m.pop()?,
            b'(' => {
                if m.marks.len() >= MAX_PICKLE_DEPTH {
                    return Err(PickleError::Limit(format!(
                        "the pickle nests containers deeper than {MAX_PICKLE_DEPTH} levels (limit)"
                    )));
                }
                m.marks.push(m.stack.len());
            }
            b'0' => {
                m.pop()?;
            }
            b'1' => {
                m.pop_mark()?;
            }
            b'2' => {
                let t = m.top()?;
                m.push(t)?;
            }
            b'N' => m.push_node(Node::None)?,
            0x88 => m.push_node(Node::Bool(true))?,
            0x89 => m.push_node(Node::Bool(false))?,
            b'J' => {
                let v = i32::from_le_bytes(input.array::<4>()?);
                m.push_node(Node::Int(v.into()))?
            }
            b'K' => {
                let v = input.byte()?;
                m.push_node(Node::Int(v.into()))?
            }
            b'M' => {
                let v = u16::from_le_bytes(input.array::<2>()?);
                m.push_node(Node::Int(v.into()))?
            }
            0x8a | 0x8b => {
                let n = if op == 0x8a {
                    u64::from(input.byte()?)
                } else {
                    u64::from(u32::from_le_bytes(input.array::<4>()?))
                };
                if n > MAX_PICKLE_INT_BYTES as u64 {
                    return Err(PickleError::Limit(format!(
                        "an integer of {n} bytes at byte {} (limit {MAX_PICKLE_INT_BYTES} bytes)",
                        m.at
                    )));
                }
                let b = input.vec(n)?;
                m.push_node(long_from_le(b))?
            }
            b'G' => {
                let v = f64::from_be_bytes(input.array::<8>()?);
                m.push_node(Node::Float(v))?
            }
            b'X' | 0x8c | 0x8d => {
                let n = match op {
                    b'X' => u64::from(u32::from_le_bytes(input.array::<4>()?)),
                    0x8c => u64::from(input.byte()?),
                    _ => u64::from_le_bytes(input.array::<8>()?),
                };
                let b = input.vec(n)?;
                let s = String::from_utf8(b).map_err(|_| m.malformed("a str that is not UTF-8"))?;
                m.push_node(Node::Str(s))?
            }
            b'B' | b'C' | 0x8e | 0x96 => {
                let n = match op {
                    b'B' => u64::from(u32::from_le_bytes(input.array::<4>()?)),
                    b'C' => u64::from(input.byte()?),
                    _ => u64::from_le_bytes(input.array::<8>()?),
                };
                let b = input.vec(n)?;
                m.push_node(Node::Bytes(b))?
            }
            b']' => m.push_node(Node::List(Vec::new()))?,
            b')' => m.push_node(Node::Tuple(Vec::new()))?,
            b'}' => m.push_node(Node::Dict(Vec::new()))?,
            b'l' => {
                let items = m.pop_mark()?;
                m.push_node(Node::List(items))?
            }
            b't' => {
                let items = m.pop_mark()?;
                m.push_node(Node::Tuple(items))?
            }
            0x85..=0x87 => {
                let k = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(k);
                for _ in 0..k {
                    items.push(m.pop()?);
                }
                items.reverse();
                m.push_node(Node::Tuple(items))?
            }
            b'd' => {
                let items = m.pop_mark()?;
                if !items.len().is_multiple_of(2) {
                    return Err(m.malformed("DICT with an odd number of items"));
                }
                let pairs = items.chunks_exact(2).map(|p| (p[0], p[1])).collect();
                m.push_node(Node::Dict(pairs))?
            }
            b'a' => {
                let item = m.pop()?;
                let list = m.top()?;
                m.extend_list(list, vec![item])?
            }
            b'e' => {
                let items = m.pop_mark()?;
                let list = m.top()?;
                m.extend_list(list, items)?
            }
            b's' => {
                let v = m.pop()?;
                let k = m.pop()?;
                let dict = m.top()?;
                m.extend_dict(dict, vec![k, v])?
            }
            b'u' => {
                let items = m.pop_mark()?;
                let dict = m.top()?;
                m.extend_dict(dict, items)?
            }
            0x94 => {
                let idx = u32::try_from(m.memo.len())
                    .map_err(|_| PickleError::Limit("memo too large".into()))?;
                m.memo_put(idx)?
            }
            b'q' => {
                let idx = input.byte()?;
                m.memo_put(idx.into())?
            }
            b'r' => {
                let idx = u32::from_le_bytes(input.array::<4>()?);
                m.memo_put(idx)?
            }
            b'h' => {
                let idx = input.byte()?;
                m.memo_get(idx.into())?
            }
            b'j' => {
                let idx = u32::from_le_bytes(input.array::<4>()?);
                m.memo_get(idx)?
            }
            b'c' => {
                let module = read_line(&mut input)?;
                let name = read_line(&mut input)?;
                m.global(module, name)?
            }
            0x93 => {
                let name = m.pop()?;
                let module = m.pop()?;
                let (Some(module), Some(name)) = (m.str_of(module), m.str_of(name)) else {
                    return Err(m.malformed("STACK_GLOBAL of something other than two str"));
                };
                let (module, name) = (module.to_string(), name.to_string());
                m.global(module, name)?
            }
            b'R' => m.reduce()?,
            op => return Err(PickleError::Opcode { op, pos: m.at }),
        }
    };
    let stop_pos = input.pos;
    if !input.at_end()? {
        return Err(PickleError::Trailing { pos: stop_pos });
    }
    if !m.stack.is_empty() || !m.marks.is_empty() {
        return Err(m.malformed("items left on the stack at STOP"));
    }
    Tree::new(m.nodes, root, len).value(root, 0)
}

/// A text argument of `GLOBAL`, up to its newline (at most 256 bytes).
fn read_line<R: Read>(input: &mut Input<R>) -> Result<String, PickleError> {
    let mut out = Vec::new();
    loop {
        let b = input.byte()?;
        if b == b'\n' {
            break;
        }
        if out.len() >= 256 {
            return Err(PickleError::Limit(
                "a GLOBAL name longer than 256 bytes".into(),
            ));
        }
        out.push(b);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// An integer from `LONG1`/`LONG4` bytes (little-endian two's complement).
fn long_from_le(b: Vec<u8>) -> Node {
    if b.is_empty() {
        return Node::Int(0);
    }
    if b.len() <= 8 {
        let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
        let mut w = [fill; 8];
        w[..b.len()].copy_from_slice(&b);
        return Node::Int(i64::from_le_bytes(w));
    }
    Node::BigInt(b)
}

/// Turns the arena into a [`Value`] tree, moving strings and bytes out at their last use and copying
/// shared ones within a budget.
struct Tree {
    nodes: Vec<Node>,
    /// References to each node (from containers and the root).
    refs: Vec<u32>,
    /// Bytes that copies of shared strings and bytes may still take.
    copy_budget: u64,
    /// Values that may still be produced.
    value_budget: usize,
}

impl Tree {
    fn new(nodes: Vec<Node>, root: Id, file_len: u64) -> Tree {
        let mut refs = vec![0u32; nodes.len()];
        let mut count = |id: &Id| {
            let r = &mut refs[*id as usize];
            *r = r.saturating_add(1);
        };
        count(&root);
        for n in &nodes {
            match n {
                Node::List(v) | Node::Tuple(v) => v.iter().for_each(&mut count),
                Node::Dict(v) => v.iter().for_each(|(k, x)| {
                    count(k);
                    count(x);
                }),
                _ => {}
            }
        }
        Tree {
            nodes,
            refs,
            copy_budget: file_len
                .saturating_mul(PICKLE_SHARED_COPY_FACTOR)
                .saturating_add(1 << 20),
            value_budget: 2 * MAX_PICKLE_OBJECTS,
        }
    }

    fn too_deep() -> PickleError {
        PickleError::Limit(format!(
            "the pickle nests containers deeper than {MAX_PICKLE_DEPTH} levels (limit), or holds a \
             container inside itself"
        ))
    }

    /// Take the payload of a string/bytes node reached by its only path (`unique`); copy it (within
    /// budget) when it or a container above it is shared.
    fn payload<T: Default + Clone>(
        &mut self,
        id: Id,
        len: usize,
        unique: bool,
        get: impl Fn(&mut Node) -> &mut T,
    ) -> Result<T, PickleError> {
        let i = id as usize;
        if unique && self.refs[i] <= 1 {
            return Ok(std::mem::take(get(&mut self.nodes[i])));
        }
        if len as u64 > self.copy_budget {
            return Err(PickleError::Limit(format!(
                "the pickle refers to the same strings or bytes so often that their copies would exceed \
                 {PICKLE_SHARED_COPY_FACTOR} × the file size (limit)"
            )));
        }
        self.copy_budget -= len as u64;
        Ok(get(&mut self.nodes[i]).clone())
    }

    fn value(&mut self, id: Id, depth: usize) -> Result<Value, PickleError> {
        self.value_in(id, depth, true)
    }

    /// `unique`: every container above `id` is referenced once (so its payloads may be moved out).
    fn value_in(&mut self, id: Id, depth: usize, unique: bool) -> Result<Value, PickleError> {
        if depth > MAX_PICKLE_DEPTH {
            return Err(Tree::too_deep());
        }
        if self.value_budget == 0 {
            return Err(PickleError::Limit(format!(
                "the pickle expands to more than {} values through shared references (limit)",
                2 * MAX_PICKLE_OBJECTS
            )));
        }
        self.value_budget -= 1;
        let i = id as usize;
        let unique = unique && self.refs[i] <= 1;
        let children = match &self.nodes[i] {
            Node::None => return Ok(Value::None),
            Node::Bool(b) => return Ok(Value::Bool(*b)),
            Node::Int(v) => return Ok(Value::I64(*v)),
            Node::BigInt(b) => return Ok(Value::Int(BigInt::from_signed_bytes_le(b))),
            Node::Float(x) => return Ok(Value::F64(*x)),
            Node::Str(s) => {
                let n = s.len();
                return self
                    .payload(id, n, unique, |node| match node {
                        Node::Str(s) => s,
                        _ => unreachable!("checked above"),
                    })
                    .map(Value::String);
            }
            Node::Bytes(b) => {
                let n = b.len();
                return self
                    .payload(id, n, unique, |node| match node {
                        Node::Bytes(b) => b,
                        _ => unreachable!("checked above"),
                    })
                    .map(Value::Bytes);
            }
            Node::CodecsEncode | Node::BytesType => {
                return Err(PickleError::Malformed {
                    pos: 0,
                    message: "a reference to a Python callable is used as data".into(),
                })
            }
            Node::List(v) | Node::Tuple(v) => v.clone(),
            Node::Dict(pairs) => {
                let pairs = pairs.clone();
                let mut d = BTreeMap::new();
                for (k, v) in pairs {
                    let key = self
                        .value_in(k, depth + 1, unique)?
                        .into_hashable()
                        .map_err(|_| PickleError::Malformed {
                            pos: 0,
                            message: "a dict key that is not hashable (list, dict or set)".into(),
                        })?;
                    let val = self.value_in(v, depth + 1, unique)?;
                    d.insert(key, val);
                }
                return Ok(Value::Dict(d));
            }
        };
        let is_list = matches!(self.nodes[i], Node::List(_));
        let items = children
            .into_iter()
            .map(|c| self.value_in(c, depth + 1, unique))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if is_list {
            Value::List(items)
        } else {
            Value::Tuple(items)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_pickle::HashableValue;

    fn key(s: &str) -> HashableValue {
        HashableValue::String(s.to_string())
    }

    fn read(b: &[u8]) -> Result<Value, PickleError> {
        read_value(b, b.len() as u64)
    }

    #[test]
    fn memo_shared_list_is_seen_complete() {
        // {'a': [1], 'b': <same list>} as protocol 4 writes it: the list is memoised while empty.
        let p = b"\x80\x04}\x94(\x8c\x01a\x94]\x94K\x01a\x8c\x01b\x94h\x02u.";
        let v = read(p).unwrap();
        let Value::Dict(d) = v else { panic!() };
        assert_eq!(d[&key("a")], Value::List(vec![Value::I64(1)]));
        assert_eq!(d[&key("b")], Value::List(vec![Value::I64(1)]));
    }

    #[test]
    fn protocol_2_bytes_pattern_is_data() {
        // _codecs.encode('\xff\x00', 'latin1') and bytes()
        let p = b"\x80\x02(c_codecs\nencode\nq\x00X\x03\x00\x00\x00\xc3\xbf\x00X\x06\x00\x00\x00latin1\x86Rc__builtin__\nbytes\n)Rl.";
        let v = read(p).unwrap();
        assert_eq!(
            v,
            Value::List(vec![Value::Bytes(vec![0xff, 0]), Value::Bytes(vec![])])
        );
    }

    #[test]
    fn code_is_refused() {
        let p = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsh\x85R.";
        let e = read(p).unwrap_err();
        assert!(is_code(&e), "{e}");
        assert!(e.to_string().contains("os.system"), "{e}");
        // encode with another codec is a call, not data
        let p = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00utf-8\x86R.";
        assert!(is_code(&read(p).unwrap_err()));
    }

    #[test]
    fn deep_nesting_and_cycles_are_limited() {
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b"]\x94"[0], 100_000)); // 100,000 empty lists
        p.extend(std::iter::repeat_n(b'a', 99_999)); // each appended to the one below
        p.push(b'.');
        let e = read(&p).unwrap_err();
        assert!(e.to_string().contains("deeper than"), "{e}");
        // l = []; l.append(l)
        let p = b"\x80\x04]\x94h\x00a.";
        let e = read(p).unwrap_err();
        assert!(e.to_string().contains("inside itself"), "{e}");
    }

    #[test]
    fn false_lengths_allocate_nothing() {
        let p = b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f";
        assert!(matches!(read(p), Err(PickleError::Truncated { .. })));
        let p = b"\x80\x04\x8b\xff\xff\xff\x7f";
        assert!(matches!(read(p), Err(PickleError::Limit(_))));
    }

    #[test]
    fn shared_bytes_copies_are_bounded() {
        // one 1000-byte bytes object referenced 100,000 times in a list
        let mut p = b"\x80\x04]\x94(B\xe8\x03\x00\x00".to_vec();
        p.extend(std::iter::repeat_n(7u8, 1000));
        p.push(0x94);
        p.extend(std::iter::repeat_n(*b"h\x01", 100_000).flatten());
        p.extend(b"e.");
        let e = read(&p).unwrap_err();
        assert!(e.to_string().contains("copies"), "{e}");
    }
}
