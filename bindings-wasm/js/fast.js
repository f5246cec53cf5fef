// The text path of Engine.evaluateJson and Engine.evaluate, for a household given as JSON
// text. wasm-bindgen's own string passing costs a TextEncoder copy in and a UTF-8
// TextDecoder out per call; here JS writes the household straight into the engine's
// input buffer in wasm memory, and reads the assessment back as UTF-16 (converted in
// Rust), which decodes as a plain copy; Engine.evaluate builds its object from a tape
// the module writes instead of the text (src/sink.rs), several times faster than
// JSON.parse of the text. A plain object (what a form gives) is written into wasm
// memory as words by one walk (no JSON.stringify; jiuzhu_core::household::words reads
// them); what the walk or the engine's words reader is not sure of is written with
// JSON.stringify and takes the text path; anything else (a value JSON cannot hold, a
// class instance, a Proxy that throws…) takes the generated methods, whose walk from
// Rust names each problem's path. build.sh puts this into pkg/jiuzhu.js and
// pkg-node/jiuzhu.js.
function installTextPath(impl) {
  const proto = impl.Engine.prototype;
  const generatedJson = proto.evaluateJson;
  const generatedEvaluate = proto.evaluate;
  const node = typeof process === "object" && process !== null && typeof process.versions?.node === "string" && typeof Buffer === "function";
  const encoder = node ? null : new TextEncoder();
  const decoder = node ? null : new TextDecoder("utf-16le", { ignoreBOM: true });
  // What Buffer#toString("utf16le") and Buffer#write(s, at, n, "utf8") call, without their
  // argument handling (half the time for an assessment); undocumented, so only when there.
  const ucs2Slice = node && typeof Buffer.prototype.ucs2Slice === "function" ? Buffer.prototype.ucs2Slice : null;
  const utf8Write = node && typeof Buffer.prototype.utf8Write === "function" ? Buffer.prototype.utf8Write : null;
  let memory = null;
  let bytes = null;
  let words = null;

  // Views of wasm memory: bytes (a Buffer on Node) and 32-bit words (the tape), remade
  // when the memory grew (its old ArrayBuffer is then detached).
  function view() {
    const buffer = memory.buffer;
    if (bytes === null || bytes.buffer !== buffer) {
      bytes = node ? Buffer.from(buffer) : new Uint8Array(buffer);
      words = new Int32Array(buffer);
    }
    return bytes;
  }

  // The assessment object from its tape (src/sink.rs has the words): the object
  // JSON.parse gives of the engine's JSON text. Texts are read in order from the text
  // S, each after the one before (T is where the next starts); names (every key, and
  // words that repeat: statuses, codes, legal bases) are ids into K.list, the engine's
  // names, learnt from the tapes (a new one comes with its text). A key Object.prototype
  // has (toString, or anything a script put there) is defined as JSON.parse does; others
  // are assigned, which is the same on an object of our own unless a script gave
  // Object.prototype a setter for that name after the key was learnt.
  let W = null, S = "", P = 0, T = 0, K = null;
  function define(o, key, value) {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  }
  function learn(id, name) {
    K.list[id] = name;
    K.define[id] = name in Object.prototype;
    return name;
  }
  function build() {
    // the op in the low four bits, its argument above
    const w = W[P++];
    switch (w & 15) {
      case 0:
        return null;
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return w >> 4;
      case 4: {
        const a = T;
        T += w >> 4;
        return Number(S.slice(a, T));
      }
      case 5: {
        const a = T;
        T += w >> 4;
        return S.slice(a, T);
      }
      case 6:
        return K.list[w >> 4];
      case 7: {
        const a = T;
        T += W[P++];
        return learn(w >> 4, S.slice(a, T));
      }
      case 8: {
        const r = [];
        while (W[P] !== 11) r.push(build());
        P++;
        return r;
      }
      case 9: {
        const o = {};
        for (;;) {
          let id = W[P++];
          if (id < 0) {
            if (id === -1) return o;
            if (id === -2) {
              // a key new to this side: learnt
              id = W[P++];
              const a = T;
              T += W[P++];
              learn(id, S.slice(a, T));
            } else {
              // a key not kept: __proto__, or the table is full
              const a = T;
              T += W[P++];
              define(o, S.slice(a, T), build());
              continue;
            }
          }
          if (K.define[id]) define(o, K.list[id], build());
          else o[K.list[id]] = build();
        }
      }
      case 10: {
        // the trace, as JSON
        const a = T;
        T += w >> 4;
        return JSON.parse(S.slice(a, T));
      }
      default:
        throw new Error("not a tape");
    }
  }

  // The assessment of the last evaluation as an object, from the tape at `at` (a byte
  // address): its header gives the address and length of its text, and whether there
  // is a tape at all (else the text is the assessment's JSON).
  function assessmentObject(keys, at) {
    view();
    const p = at >>> 2;
    const units = words[p + 1];
    const text = utf16At(words[p] >>> 0, units);
    if (words[p + 2] === 0) return JSON.parse(text);
    W = words;
    P = p + 3;
    S = text;
    T = 0;
    K = keys;
    try {
      const o = build();
      if (T !== units) throw new Error("tape not read to its end");
      return o;
    } finally {
      // Names are known when learnt without a gap (a tape not read to its end may have
      // left one): only those are sent as ids next time.
      while (keys.known < keys.list.length && keys.list[keys.known] !== undefined) keys.known++;
      W = null;
      S = "";
      K = null;
    }
  }

  // What this file keeps on an engine, made at its first call (one property, so that an
  // engine has the same shape whichever call came first).
  function state(engine) {
    let st = engine.__fast;
    if (st === undefined) st = engine.__fast = { options: undefined, keys: { list: [], define: [], known: 0 }, words: 0, wordsText: 0 };
    return st;
  }

  // An options object read by the module is remembered with its keys and values: the
  // same object holding the same values is not read again (reading it from wasm crosses
  // into JavaScript for each key and each text: ≈ 1 µs a key, 5 µs for {lang, today,
  // trace}, a fifth of an evaluation). Changed in place, it is read again.
  function sameOptions(st, options) {
    const last = st.options;
    if (last === undefined || last.object !== options || last.keys === null) return false;
    const keys = Object.keys(options);
    if (keys.length !== last.keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== last.keys[i] || !Object.is(options[keys[i]], last.values[i])) return false;
    }
    return true;
  }

  // The text path's methods (asObject false: the assessment's text) or the tape's.
  function evaluateWith(engine, st, len, options, asObject) {
    if (options === undefined || options === null || typeof options !== "object") {
      return asObject ? engine.__evaluateBufferObject(len, st.keys.known, options) : engine.__evaluateBuffer(len, options);
    }
    parsedOptions(engine, st, options);
    return asObject ? engine.__evaluateBufferObjectParsed(len, st.keys.known) : engine.__evaluateBufferParsed(len);
  }

  function evaluateText(engine, household, options, asObject) {
    if (memory === null) memory = impl.__memory();
    const st = state(engine);
    // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4).
    const room = household.length * 3;
    const at = engine.__inputBuffer(room);
    let v = view();
    const len = !node ? encoder.encodeInto(household, v.subarray(at, at + room)).written
      : utf8Write ? utf8Write.call(v, household, at, room) : v.write(household, at, room, "utf8");
    if (asObject) {
      const tape = evaluateWith(engine, st, len, options, true);
      try {
        return assessmentObject(st.keys, tape);
      } catch {
        // never expected; the object is the same either way
        return JSON.parse(evaluateText(engine, household, options, false));
      }
    }
    return textOutput(engine, evaluateWith(engine, st, len, options, false));
  }

  // The assessment's text of the last evaluation (`units` UTF-16 units in the output
  // buffer).
  function textOutput(engine, units) {
    return utf16At(engine.__outputBuffer(), units);
  }

  // The string of `units` UTF-16 units at byte address `at` of wasm memory.
  function utf16At(at, units) {
    const v = view();
    return !node ? decoder.decode(v.subarray(at, at + units * 2))
      : ucs2Slice ? ucs2Slice.call(v, at, at + units * 2) : v.toString("utf16le", at, at + units * 2);
  }

  // A household object as words (jiuzhu_core::household::words has their form), written
  // straight into wasm memory in one walk: this replaces the plainness check and
  // JSON.stringify, and the engine's reading of that text, a third of the call. The
  // walk gives up (false) at anything it is not sure to write as JSON.stringify would
  // have it, or that cannot be a valid household (a key that is no field of the form);
  // the text path then takes the household as before and reports its problems.
  let FIELD = null; // field name -> its position, the same for every engine
  const WORDS = 16384, WORDS_TEXT = 65536; // the buffers' room (src/lib.rs)
  let HW = null, HB = null, wp = 0, wEnd = 0, bp = 0, bStart = 0, bEnd = 0;
  let walking = false, reentered = false;
  // Ops: 0 null, 1 true, 2 false, 3 an integer of 32 bits, 4 another number's text,
  // 5 a string, 8 an array (its length, its items), 9 an object (its size, then pairs of
  // a field's position in FIELD and a value).
  function walk(v, depth) {
    if (wp + 3 > wEnd) return false;
    if (v === null) {
      HW[wp++] = 0;
      return true;
    }
    switch (typeof v) {
      case "string":
        HW[wp++] = 5;
        return walkText(v);
      case "boolean":
        HW[wp++] = v ? 1 : 2;
        return true;
      case "number":
        if ((v | 0) === v) {
          // an integer of 32 bits (-0 too: JSON.stringify writes 0)
          HW[wp++] = 3;
          HW[wp++] = v;
          return true;
        }
        if (!Number.isFinite(v)) return false;
        HW[wp++] = 4;
        return walkText(String(v)); // the text JSON.stringify writes
      case "object":
        break;
      default:
        return false;
    }
    if (depth >= 8) return false; // the form is four levels deep
    if (Array.isArray(v)) {
      const n = v.length;
      if (n > 100 || "toJSON" in v) return false;
      HW[wp++] = 8;
      HW[wp++] = n;
      for (let i = 0; i < n; i++) if (!walk(v[i], depth + 1)) return false;
      return true;
    }
    const proto = Object.getPrototypeOf(v);
    if ((proto !== Object.prototype && proto !== null) || "toJSON" in v) return false;
    HW[wp++] = 9;
    const count = wp++;
    let n = 0;
    // for…in visits the own keys in JSON.stringify's order; inherited enumerable keys
    // would come too, which is why a polluted Object.prototype sends every object to the
    // text path (prototypeClean).
    for (const k in v) {
      const id = FIELD.get(k);
      if (id === undefined || wp + 1 > wEnd) return false;
      HW[wp++] = id;
      if (!walk(v[k], depth + 1)) return false;
      n++;
    }
    HW[count] = n;
    return true;
  }

  // A string's UTF-8 bytes, and its start and end among them. A lone surrogate (which
  // JSON.stringify writes as an escape) gives up.
  function walkText(s) {
    const n = s.length;
    if (bp + 3 * n > bEnd) return false;
    HW[wp++] = bp - bStart;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        HB[bp++] = c;
      } else if (c < 0x800) {
        HB[bp++] = 0xc0 | (c >> 6);
        HB[bp++] = 0x80 | (c & 63);
      } else if (c < 0xd800 || c >= 0xe000) {
        HB[bp++] = 0xe0 | (c >> 12);
        HB[bp++] = 0x80 | ((c >> 6) & 63);
        HB[bp++] = 0x80 | (c & 63);
      } else {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c >= 0xdc00 || d < 0xdc00 || d >= 0xe000) return false;
        const u = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        HB[bp++] = 0xf0 | (u >> 18);
        HB[bp++] = 0x80 | ((u >> 12) & 63);
        HB[bp++] = 0x80 | ((u >> 6) & 63);
        HB[bp++] = 0x80 | (u & 63);
        i++;
      }
    }
    HW[wp++] = bp - bStart;
    return true;
  }

  // Whether Object.prototype has no enumerable key (which for…in would visit on every
  // object, and JSON.stringify would not write).
  function prototypeClean() {
    for (const k in Object.prototype) return false;
    return true;
  }

  // The assessment of a household object through its words, or undefined when the walk
  // or the engine's words reader gave up (then the text path takes it).
  function evaluateWords(engine, household, options, asObject) {
    // A getter that evaluates while the walk reads it (re-entered): the inner call and
    // the outer one take the text path (the words buffers and their views are shared).
    if (walking) {
      reentered = true;
      return undefined;
    }
    if (memory === null) memory = impl.__memory();
    const st = state(engine);
    if (st.words === 0) {
      st.words = engine.__wordsBuffer();
      st.wordsText = engine.__wordsTextBuffer();
    }
    if (FIELD === null) FIELD = new Map(impl.Engine.__householdFields().map((f, i) => [f, i]));
    view();
    HW = words;
    HB = bytes;
    wp = st.words >>> 2;
    wEnd = wp + WORDS;
    bp = bStart = st.wordsText;
    bEnd = bStart + WORDS_TEXT;
    const w0 = wp;
    let ok = false;
    walking = true;
    reentered = false;
    try {
      ok = prototypeClean() && walk(household, 0);
    } catch {
      ok = false; // a getter or a Proxy threw: the text path reports where
    } finally {
      walking = false;
      HW = null;
      HB = null;
    }
    // (a getter that made wasm memory grow left the views detached: nothing written)
    if (!ok || reentered || memory.buffer !== words.buffer) return undefined;
    parsedOptions(engine, st, options);
    if (asObject) {
      const at = engine.__evaluateWordsObjectParsed(wp - w0, bp - bStart, st.keys.known);
      if (at === 0) return undefined;
      try {
        return assessmentObject(st.keys, at);
      } catch {
        return undefined; // never expected; the text path makes the same object
      }
    }
    const units = engine.__evaluateWordsParsed(wp - w0, bp - bStart);
    return units === 0xffffffff ? undefined : textOutput(engine, units);
  }

  // The options of `options` parsed in the module (see sameOptions), also when they are
  // not an object (none, or a wrong value that __parseOptions throws on).
  function parsedOptions(engine, st, options) {
    if (options === undefined || options === null || typeof options !== "object") {
      const last = st.options;
      if (last !== undefined && last.object === options && last.keys === null) return;
      st.options = undefined;
      engine.__parseOptions(options);
      st.options = { object: options, keys: null, values: null };
      return;
    }
    if (!sameOptions(st, options)) {
      st.options = undefined;
      engine.__parseOptions(options); // throws on a bad option, remembering nothing
      const keys = Object.keys(options);
      st.options = { object: options, keys, values: keys.map((k) => options[k]) };
    }
  }

  // Whether JSON.stringify(v) says all there is to say about v: the generated methods
  // would find no problem in it (they walk it from Rust, crossing into JavaScript for
  // every key: ≈ 140 µs a household, five times the evaluation) and then send that very
  // text. Only plain objects and arrays of texts, finite numbers, booleans and null, as
  // deep as the engine allows; anything else, or anything that throws when read, is
  // left to them.
  function plain(v, depth) {
    if (v === null) return true;
    switch (typeof v) {
      case "string":
      case "boolean":
        return true;
      case "number":
        return Number.isFinite(v);
      case "object":
        break;
      default:
        return false;
    }
    if (depth >= 64) return false;
    if (Array.isArray(v)) {
      if (v.length > 100) return false;
      for (let i = 0; i < v.length; i++) if (!plain(v[i], depth + 1)) return false;
      return true;
    }
    const proto = Object.getPrototypeOf(v);
    if ((proto !== Object.prototype && proto !== null) || "toJSON" in v) return false;
    // for…in rather than Object.keys: no array of keys made per object (a third of this
    // walk's time). It also visits enumerable keys a script added to Object.prototype,
    // which JSON.stringify leaves out: a value there that is not plain sends the
    // household to the generated methods, slower and still right.
    for (const k in v) if (!plain(v[k], depth + 1)) return false;
    return true;
  }

  // The JSON text of a plain household object, or undefined for the generated methods.
  function plainText(household) {
    if (household === null || typeof household !== "object" || Array.isArray(household)) return undefined;
    try {
      return plain(household, 0) ? JSON.stringify(household) : undefined;
    } catch {
      return undefined; // a getter or a Proxy threw: the generated methods report where
    }
  }

  proto.evaluateJson = function evaluateJson(household, options) {
    if (typeof household === "object" && household !== null) {
      const r = evaluateWords(this, household, options, false);
      if (r !== undefined) return r;
    }
    const text = typeof household === "string" ? household : plainText(household);
    if (text === undefined) return generatedJson.call(this, household, options);
    return evaluateText(this, text, options, false);
  };
  proto.evaluate = function evaluate(household, options) {
    if (typeof household === "object" && household !== null) {
      const r = evaluateWords(this, household, options, true);
      if (r !== undefined) return r;
    }
    const text = typeof household === "string" ? household : plainText(household);
    if (text === undefined) return generatedEvaluate.call(this, household, options);
    return evaluateText(this, text, options, true);
  };
}
