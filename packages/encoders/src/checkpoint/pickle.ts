// A restricted ("weights-only") unpickler for `torch.save` files. It interprets the pickle opcodes as
// data only: the few globals a state dict needs are resolved to built-in stand-ins, a small allow-list of
// harmless classes (argparse.Namespace, torch.device, ...) become inert records, and any other global
// (os.system, builtins.eval, ...) is refused with an error naming it. Nothing from the file is ever
// executed or imported.

/** A Python tuple (kept distinct from lists). */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** An allowed global that stands for itself (a dtype such as `torch.float16`, or a storage class). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of an allow-listed class, kept as an inert record (its state is not interpreted). */
export class PyObject {
  state: PickleValue = null;
  constructor(
    readonly className: string,
    readonly args: PickleValue[],
  ) {}
}

/** A torch storage referenced by a persistent id: `('storage', <Type>Storage, key, location, numel)`. */
export class TorchStorage {
  constructor(
    readonly storageType: string,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** A tensor view of a storage, as `torch._utils._rebuild_tensor_v2` describes it. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** What the unpickler produces. Dicts become `Map`s (keys may be ints or strings). */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PyTuple
  | Map<PickleValue, PickleValue>
  | Set<PickleValue>
  | PyGlobal
  | PyObject
  | TorchStorage
  | TorchTensor;

/** Thrown for refused globals: the file asked for something that is not data. */
export class UnsafePickleError extends Error {}

function fail(message: string): never {
  throw new Error(`pickle: ${message}`);
}

const STORAGE_TYPES = new Set([
  'FloatStorage',
  'HalfStorage',
  'BFloat16Storage',
  'DoubleStorage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
]);
const TORCH_DTYPES = new Set([
  'float32',
  'float',
  'float16',
  'half',
  'bfloat16',
  'float64',
  'double',
  'int64',
  'long',
  'int32',
  'int',
  'int16',
  'int8',
  'uint8',
  'bool',
]);
/** Classes kept as inert records. */
const INERT_CLASSES = new Set(['argparse.Namespace', 'torch.device', 'torch.Size']);

type Callable = (args: PickleValue[]) => PickleValue;

function asInt(v: PickleValue, what: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) fail(`${what} must be an integer, got ${String(v)}`);
  return n;
}

function intList(v: PickleValue, what: string): number[] {
  const items =
    v instanceof PyTuple ? v.items : Array.isArray(v) ? v : v instanceof PyObject ? v.args[0] : null;
  const list = items instanceof PyTuple ? items.items : items;
  if (!Array.isArray(list)) fail(`${what} must be a tuple of integers`);
  return list.map((x, i) => asInt(x, `${what}[${i}]`));
}

function rebuildTensor(args: PickleValue[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) fail('_rebuild_tensor_v2: first argument is not a storage');
  return new TorchTensor(
    storage,
    asInt(offset, 'storage offset'),
    intList(size, 'size'),
    intList(stride, 'stride'),
  );
}

/** Functions a state dict needs, implemented here (never looked up from the file). */
const FUNCTIONS: Record<string, Callable> = {
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
  'collections.OrderedDict': (args) => {
    const m = new Map<PickleValue, PickleValue>();
    const pairs = args[0];
    const list = pairs instanceof PyTuple ? pairs.items : Array.isArray(pairs) ? pairs : [];
    for (const p of list) {
      const kv =
        p instanceof PyTuple ? p.items : Array.isArray(p) ? p : fail('OrderedDict: items must be pairs');
      m.set(kv[0], kv[1]);
    }
    return m;
  },
  // Protocol-2 pickles of `bytes` go through `_codecs.encode(str, 'latin1')`.
  '_codecs.encode': (args) => {
    const s = args[0];
    if (typeof s !== 'string') fail('_codecs.encode: expected a string');
    return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  },
  'builtins.set': (args) => new Set(Array.isArray(args[0]) ? args[0] : []),
  'builtins.frozenset': (args) => new Set(Array.isArray(args[0]) ? args[0] : []),
};

/** Resolves a global: an implemented function, an inert class, a storage type or dtype; else refused. */
function resolveGlobal(module: string, name: string): PickleValue | Callable {
  const q = `${module}.${name}`;
  if (q in FUNCTIONS) return FUNCTIONS[q];
  if (module === 'torch' && (STORAGE_TYPES.has(name) || TORCH_DTYPES.has(name)))
    return new PyGlobal(module, name);
  if (INERT_CLASSES.has(q)) return (args) => new PyObject(q, args);
  throw new UnsafePickleError(
    `pickle: refused global '${q}': only tensors, storages, dicts and inert records (${[...INERT_CLASSES].join(', ')}) are allowed; nothing was executed`,
  );
}

type StackItem = PickleValue | Callable;

/**
 * Unpickles `data` with the restrictions above.
 * @param persistentLoad resolves `BINPERSID` ids (torch: the storage tuple)
 * @throws `UnsafePickleError` for refused globals; `pickle: ...` errors for truncated or malformed data
 */
export function unpickle(data: Uint8Array, persistentLoad: (pid: PickleValue) => PickleValue): PickleValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, StackItem>();
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  let pos = 0;

  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) fail(`truncated at byte ${pos} (needs ${n} more of ${data.length})`);
  };
  const u8 = () => {
    need(1);
    return data[pos++];
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    const lo = u32();
    const hi = u32();
    return hi * 2 ** 32 + lo;
  };
  const bytes = (n: number) => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated at byte ${pos} (unterminated line)`);
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): StackItem => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]))
      fail(`stack underflow at byte ${pos}`);
    return stack.pop() as StackItem;
  };
  const popValue = (): PickleValue => {
    const v = pop();
    if (typeof v === 'function') fail(`unexpected callable at byte ${pos}`);
    return v;
  };
  const top = (): StackItem => {
    if (stack.length === 0) fail(`empty stack at byte ${pos}`);
    return stack[stack.length - 1];
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail(`no mark at byte ${pos}`);
    const items = stack.splice(m);
    for (const v of items)
      if (typeof v === 'function') fail(`unexpected callable in a sequence at byte ${pos}`);
    return items as PickleValue[];
  };
  const call = (fn: StackItem, args: PickleValue[]): PickleValue => {
    if (typeof fn !== 'function') {
      const what = fn instanceof PyGlobal ? `'${fn.qualifiedName}'` : 'a non-callable';
      fail(`cannot call ${what} at byte ${pos}`);
    }
    return fn(args);
  };
  const setItems = (target: StackItem, kv: PickleValue[]) => {
    if (!(target instanceof Map)) {
      if (target instanceof PyObject) return; // inert record: ignore item assignment
      fail(`SETITEM(S) on a non-dict at byte ${pos}`);
    }
    if (kv.length % 2) fail(`odd number of items for SETITEMS at byte ${pos}`);
    for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
  };
  const asArgs = (v: PickleValue): PickleValue[] => {
    if (v instanceof PyTuple) return v.items;
    if (Array.isArray(v)) return v;
    return fail(`arguments must be a tuple at byte ${pos}`);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: {
        // STOP
        const v = popValue();
        return v;
      }
      case 0x28: // MARK
        marks.push(stack.length); // marks are tracked by stack position
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : u32();
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v,
        );
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(bytes(u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(bytes(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([popValue()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = popValue();
        stack.push(new PyTuple([popValue(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = popValue();
        const b = popValue();
        stack.push(new PyTuple([popValue(), b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const m = new Map<PickleValue, PickleValue>();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = popValue();
        const k = popValue();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: {
        // APPEND
        const v = popValue();
        const list = top();
        if (!Array.isArray(list)) fail(`APPEND to a non-list at byte ${pos}`);
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail(`APPENDS to a non-list at byte ${pos}`);
        list.push(...items);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail(`ADDITEMS to a non-set at byte ${pos}`);
        for (const v of items) set.add(v);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} is missing at byte ${pos}`);
        stack.push(memo.get(i) as StackItem);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = popValue();
        const module = popValue();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail(`STACK_GLOBAL needs two strings at byte ${pos}`);
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = asArgs(popValue());
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = asArgs(popValue());
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        popValue(); // kwargs
        const args = asArgs(popValue());
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = popValue();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        else if (!(obj instanceof TorchTensor || obj instanceof Map))
          fail(`BUILD on an unsupported object at byte ${pos}`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(popValue()));
        break;
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} (corrupt file?)`);
    }
  }
}

/** torch's persistent ids: `('storage', <Type>Storage, key, location, numel)` → `TorchStorage`. */
export function torchPersistentLoad(pid: PickleValue): TorchStorage {
  const t = pid instanceof PyTuple ? pid.items : null;
  if (!t || t.length < 5 || t[0] !== 'storage') fail(`unsupported persistent id ${String(pid)}`);
  const [, type, key, location, numel] = t;
  if (!(type instanceof PyGlobal) || !STORAGE_TYPES.has(type.name))
    fail('persistent id names no storage type');
  if (typeof key !== 'string') fail('storage key must be a string');
  return new TorchStorage(
    type.name,
    key,
    typeof location === 'string' ? location : '',
    asInt(numel, 'storage numel'),
  );
}
