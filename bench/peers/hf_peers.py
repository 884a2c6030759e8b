#!/usr/bin/env python3
"""Decode-throughput benchmark of the PyTorch / Hugging Face peers our engine is compared against.

Everything runs offline: the model is a LlamaConfig-shaped LlamaForCausalLM with seeded random weights (no
download), the prompts are seeded random token ids, and every peer sees the same weights and the same prompts.

Peers (each measurement has its own try/except; a failure is recorded in the JSON, never fatal):
  hf_eager             DynamicCache, eager forward, manual greedy loop (argmax on device, no EOS stop).
  hf_static_eager      StaticCache, eager forward (no compile); optional, --static-eager-batches.
  hf_static_compiled   StaticCache + torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
                       (inductor + CUDA graphs), prefill eager, compile/capture excluded from the timing.
  hf_static_cudagraph  StaticCache, one eager decode step captured with torch.cuda.CUDAGraph and replayed.
  peft_mixed           PEFT LoRA, N distinct adapters in one PeftModel, row i uses adapter i % N through
                       forward(adapter_names=[...]) (PEFT's mixed-batch inference).
  peft_single          the same PeftModel, one active adapter for every row (the ordinary LoRA path).
  bandwidth            device-to-device copy bandwidth, and the HBM-bound decode step time per batch.

The JSON goes to --out (rewritten after every measurement, so a crash keeps what was measured); a short table
goes to stdout; progress goes to stderr. See README.md beside this file for the keys.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import inspect
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

T0 = time.time()
PEERS_VERSION = 1
LOG_TAG = "hf_peers"

FULL_DEFAULTS = dict(
    hidden=2048, layers=16, heads=32, kv_heads=8, intermediate=8192, vocab=128256, rope_theta=500000.0,
    max_pos=2048, prompt=128, new_tokens=128, batches="1,8,32,64,128", compiled_batches=None,
    cudagraph_batches="", static_eager_batches="", adapters=32, peft_batch="32", budget_s=420.0,
    bandwidth_gib=2.0,
)
SMOKE_DEFAULTS = dict(
    hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128, vocab=256, rope_theta=500000.0,
    max_pos=64, prompt=8, new_tokens=8, batches="1,2", compiled_batches="1", cudagraph_batches="1,2",
    static_eager_batches="1,2", adapters=2, peft_batch="2", budget_s=300.0, bandwidth_gib=0.25,
)
ALL_PEERS = ("hf_eager", "hf_static_eager", "peft_mixed", "peft_single", "hf_static_cudagraph",
             "hf_static_compiled")
STATIC_PEERS = ("hf_static_eager", "hf_static_cudagraph", "hf_static_compiled")


def log(*parts):
    print("[%s %6.1fs]" % (LOG_TAG, time.time() - T0), *parts, file=sys.stderr, flush=True)


def int_list(text):
    if text is None:
        return []
    return [int(x) for x in str(text).replace(" ", "").split(",") if x != ""]


def err_text(exc, limit=4000):
    text = "%s: %s" % (type(exc).__name__, exc)
    return text if len(text) <= limit else text[:limit] + " ...[cut]"


def tb_tail(lines=25):
    return "".join(traceback.format_exc().splitlines(True)[-lines:])


def sanitize(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def write_json(path, data):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(sanitize(data), f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def result(peer, batch, status="ok", error=None, **extra):
    r = {"peer": peer, "batch": batch, "ms_per_step": None, "tok_s": None, "prefill_ms": None, "steps": None,
         "status": status, "error": error}
    r.update(extra)
    return r


class Budget:
    def __init__(self, deadline, budget_s):
        self.deadline = deadline
        self.budget_s = budget_s

    def remaining(self):
        return self.deadline - time.time()

    def expired(self):
        return self.remaining() <= 0

    def reason(self):
        return "budget exhausted: %.0fs elapsed of --budget-s %.0f" % (time.time() - T0, self.budget_s)


class Timer:
    """CUDA events on the GPU (the GPU timeline), perf_counter on the CPU (ops are synchronous there)."""

    def __init__(self, torch, device):
        self.torch = torch
        self.cuda = device == "cuda"

    def mark(self):
        if self.cuda:
            e = self.torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def ms(self, a, b):
        return a.elapsed_time(b) if self.cuda else (b - a) * 1000.0


# ----------------------------------------------------------------------------------------------------- arguments

class _HelpFmt(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action):  # defaults that depend on --smoke are spelled out in the help text
        if action.default is None or action.help is None or "%(default)" in action.help:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=_HelpFmt)
    g = p.add_argument_group("model shape (LlamaConfig, random weights)")
    g.add_argument("--hidden", type=int, default=None, help="hidden size (2048; smoke 64)")
    g.add_argument("--layers", type=int, default=None, help="decoder layers (16; smoke 2)")
    g.add_argument("--heads", type=int, default=None, help="attention heads (32; smoke 4)")
    g.add_argument("--kv-heads", type=int, default=None, help="key/value heads (8; smoke 2)")
    g.add_argument("--intermediate", type=int, default=None, help="MLP size (8192; smoke 128)")
    g.add_argument("--vocab", type=int, default=None, help="vocabulary (128256; smoke 256)")
    g.add_argument("--rope-theta", type=float, default=None, help="RoPE theta (500000)")
    g.add_argument("--tie-embeddings", action=argparse.BooleanOptionalAction, default=True,
                   help="tie lm_head to the embedding")
    g.add_argument("--max-pos", type=int, default=None, help="max_position_embeddings (2048; smoke 64)")
    g.add_argument("--dtype", choices=("fp16", "bf16", "fp32"), default="fp16")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--init-std", type=float, default=0.02, help="std of the random weights")
    g = p.add_argument_group("workload")
    g.add_argument("--prompt", type=int, default=None, help="prompt tokens per row (128; smoke 8)")
    g.add_argument("--new-tokens", type=int, default=None, help="decode steps timed (128; smoke 8)")
    g.add_argument("--batches", default=None, help="batch sizes for hf_eager (1,8,32,64,128; smoke 1,2)")
    g.add_argument("--compiled-batches", default=None,
                   help="batch sizes for hf_static_compiled (default: --batches; smoke 1)")
    g.add_argument("--cudagraph-batches", default=None,
                   help="batch sizes for hf_static_cudagraph (default none; smoke 1,2)")
    g.add_argument("--static-eager-batches", default=None,
                   help="batch sizes for hf_static_eager (default none; smoke 1,2)")
    g.add_argument("--warmup-steps", type=int, default=3, help="decode steps left out of the median")
    g.add_argument("--peers", default="all", help="comma list of peers to run, or 'all': " + ",".join(ALL_PEERS))
    g = p.add_argument_group("compile")
    g.add_argument("--compile-mode", default="reduce-overhead")
    g.add_argument("--compile-warmup", type=int, default=5,
                   help="compiled decode calls made (and timed as compile_s) before the measured decode")
    g.add_argument("--min-compile-s", type=float, default=60.0,
                   help="do not start a compiled batch with less budget left than this (later batches: the "
                        "previous batch's cost)")
    g.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                   help="run the static-cache peers (compile / CUDA graphs) in child processes so that a crash "
                        "there cannot take the other results down (default: on with CUDA)")
    g = p.add_argument_group("PEFT")
    g.add_argument("--adapters", type=int, default=None, help="distinct LoRA adapters (32; smoke 2)")
    g.add_argument("--rank", type=int, default=16)
    g.add_argument("--alpha", type=float, default=32)
    g.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj")
    g.add_argument("--lora-std", type=float, default=0.02, help="std of the random LoRA A and B")
    g.add_argument("--peft-batch", default=None, help="rows for the PEFT peers, comma list allowed (32; smoke 2)")
    g.add_argument("--no-peft-single", action="store_true", help="skip peft_single")
    g = p.add_argument_group("bandwidth")
    g.add_argument("--bandwidth-gib", type=float, default=None, help="size of the copied tensor (2; smoke 0.25)")
    g.add_argument("--bandwidth-iters", type=int, default=10)
    g = p.add_argument_group("run")
    g.add_argument("--budget-s", type=float, default=None,
                   help="global time budget from process start (420; smoke 300); later measurements are "
                        "recorded as skipped")
    g.add_argument("--out", default="hf_peers.json")
    g.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    g.add_argument("--smoke", action="store_true",
                   help="tiny shape (hidden 64, 2 layers, vocab 256, prompt 8, new 8, batches 1,2, 2 adapters); "
                        "runs on the CPU when there is no GPU")
    # internal: a child process running one static-cache peer
    p.add_argument("--child-peer", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-batches", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-out", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-deadline", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-eager-tokens", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    base = SMOKE_DEFAULTS if args.smoke else FULL_DEFAULTS
    for k, v in base.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.compiled_batches is None:
        args.compiled_batches = args.batches
    if args.peers == "all":
        args.peer_set = set(ALL_PEERS) | {"bandwidth"}
    else:
        args.peer_set = set(x.strip() for x in args.peers.split(",") if x.strip())
    if args.no_peft_single:
        args.peer_set.discard("peft_single")
    unknown = args.peer_set - set(ALL_PEERS) - {"bandwidth"}
    if unknown:
        p.error("unknown --peers: %s (known: %s,bandwidth)" % (",".join(sorted(unknown)), ",".join(ALL_PEERS)))
    if args.hidden % args.heads:
        p.error("--hidden must be a multiple of --heads")
    if args.heads % args.kv_heads:
        p.error("--heads must be a multiple of --kv-heads")
    if args.prompt + args.new_tokens > args.max_pos:
        p.error("--prompt + --new-tokens must not exceed --max-pos")
    return args


def shape_of(args):
    return {"hidden": args.hidden, "layers": args.layers, "heads": args.heads, "kv_heads": args.kv_heads,
            "head_dim": args.hidden // args.heads, "intermediate": args.intermediate, "vocab": args.vocab,
            "rope_theta": args.rope_theta, "tie_embeddings": bool(args.tie_embeddings), "max_pos": args.max_pos,
            "prompt": args.prompt, "new_tokens": args.new_tokens, "dtype": args.dtype,
            "attn_implementation": "sdpa"}


def formula_param_count(args):
    h, hd, kvh = args.hidden, args.hidden // args.heads, args.kv_heads
    per_layer = (h * args.heads * hd) * 2 + (h * kvh * hd) * 2 + 3 * h * args.intermediate + 2 * h
    emb = args.vocab * h
    return emb + (0 if args.tie_embeddings else emb) + args.layers * per_layer + h


# ------------------------------------------------------------------------------------------------------- context

class Ctx:
    """What every peer needs: torch, the libraries (or why they are missing), the model, the prompts."""

    def __init__(self, args):
        self.args = args
        import torch  # noqa: F401  (an ImportError here is handled by the caller)
        self.torch = torch
        want = args.device
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if want == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("--device cuda but torch.cuda.is_available() is False")
        self.device = want
        self.cuda = want == "cuda"
        dt = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
        self.dtype_note = None
        if not self.cuda and dt != torch.float32:
            self.dtype_note = "%s requested, fp32 used on the CPU" % args.dtype
            dt = torch.float32
        self.dtype = dt
        self.elsize = torch.tensor([], dtype=dt).element_size()
        self.timer = Timer(torch, self.device)
        self.tf, self.tf_err = _try_import("transformers")
        self.peft, self.peft_err = _try_import("peft")
        maxb = max([1] + int_list(args.batches) + int_list(args.compiled_batches) + int_list(args.cudagraph_batches)
                   + int_list(args.static_eager_batches) + int_list(args.peft_batch))
        gen = torch.Generator().manual_seed(args.seed + 12345)
        hi = args.vocab - 256 if args.vocab > 1024 else args.vocab  # Llama-3 special ids sit at 128000+
        self.prompts = torch.randint(3, hi, (maxb, args.prompt), generator=gen, dtype=torch.long)
        self.model = None
        self.model_err = None
        self.model_info = {}
        self.eager_tokens = {}
        self.fwd_params = set()

    # --- model -------------------------------------------------------------------------------------------------
    def make_config(self):
        a, tf = self.args, self.tf
        cls = tf.LlamaConfig
        kw = dict(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
                  num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                  max_position_embeddings=a.max_pos, tie_word_embeddings=bool(a.tie_embeddings), rms_norm_eps=1e-5,
                  hidden_act="silu", attention_bias=False, mlp_bias=False)
        names = set(getattr(cls, "__dataclass_fields__", {}) or {})
        try:
            names |= set(inspect.signature(cls.__init__).parameters)
        except (TypeError, ValueError):
            pass
        if "rope_parameters" in names:  # transformers 5.x
            kw["rope_parameters"] = {"rope_type": "default", "rope_theta": float(a.rope_theta)}
        else:
            kw["rope_theta"] = float(a.rope_theta)
        cfg = cls(**kw)
        try:
            cfg._attn_implementation = "sdpa"
        except Exception:  # noqa: BLE001
            pass
        return cfg

    def build_model(self, seed=None):
        torch, tf = self.torch, self.tf
        if tf is None:
            raise RuntimeError(self.tf_err)
        seed = self.args.seed if seed is None else seed
        torch.manual_seed(seed)
        cfg = self.make_config()
        dev_ctx = contextlib.nullcontext()
        if hasattr(torch.device("cpu"), "__enter__"):
            dev_ctx = torch.device(self.device)
        with dev_ctx:
            model = tf.LlamaForCausalLM(cfg)
        if any(getattr(p, "is_meta", False) for p in model.parameters()):
            raise RuntimeError("LlamaForCausalLM(config) left parameters on the meta device")
        model.to(self.device)
        with torch.no_grad():
            for p in model.parameters():  # parameters only: buffers such as RoPE inv_freq stay fp32
                if p.dtype != self.dtype:
                    p.data = p.data.to(self.dtype)
            gen = torch.Generator(device=self.device).manual_seed(seed)
            for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
                if p.dim() >= 2:
                    p.normal_(0.0, self.args.init_std, generator=gen)
                else:
                    p.fill_(1.0)  # RMSNorm weights (Llama has no biases here)
        impl = getattr(model.config, "_attn_implementation", None)
        if impl != "sdpa":
            try:
                model.set_attn_implementation("sdpa")
            except Exception:  # noqa: BLE001
                try:
                    model.config._attn_implementation = "sdpa"
                except Exception:  # noqa: BLE001
                    pass
        model.eval()
        return model

    def load_model(self):
        t = time.time()
        try:
            self.model = self.build_model()
        except Exception as e:  # noqa: BLE001
            self.model_err = "model build failed: " + err_text(e)
            log(self.model_err)
            log(tb_tail())
            return
        m = self.model
        seen, count, nbytes = set(), 0, 0
        for p in m.parameters():
            key = (p.data_ptr(), p.numel())
            if key in seen:
                continue
            seen.add(key)
            count += p.numel()
            nbytes += p.numel() * p.element_size()
        self.fwd_params = set(inspect.signature(m.forward).parameters)
        self.accepts_cache_position = "cache_position" in self.fwd_params
        self.logits_kw = ("logits_to_keep" if "logits_to_keep" in self.fwd_params else
                          "num_logits_to_keep" if "num_logits_to_keep" in self.fwd_params else None)
        tied = m.get_output_embeddings() is not None and \
            m.get_output_embeddings().weight.data_ptr() == m.get_input_embeddings().weight.data_ptr()
        self.model_info = {
            "param_count": count, "weight_bytes": nbytes, "build_s": round(time.time() - t, 2),
            "attn_implementation": getattr(m.config, "_attn_implementation", None), "tied_embeddings": tied,
            "forward_accepts_cache_position": self.accepts_cache_position, "logits_kw": self.logits_kw,
            "class": type(m).__name__,
        }
        log("model built: %.3fB params, %.2f GB, attn=%s, tied=%s, %.1fs" % (
            count / 1e9, nbytes / 1e9, self.model_info["attn_implementation"], tied, time.time() - t))

    # --- helpers -----------------------------------------------------------------------------------------------
    def sync(self):
        self.timer.sync()

    def prefill_kw(self, static=False):
        kw = {}
        if self.logits_kw:
            kw[self.logits_kw] = 1
        if static and self.accepts_cache_position:
            kw["cache_position"] = self.torch.arange(self.args.prompt, device=self.device)
        return kw

    def dynamic_cache(self, model=None):
        cls = self.tf.DynamicCache
        try:
            if "config" in inspect.signature(cls.__init__).parameters:
                return cls(config=(model or self.model).config)
        except (TypeError, ValueError):
            pass
        return cls()

    def static_cache(self, batch, max_len):
        tf = self.tf
        cls = getattr(tf, "StaticCache", None)
        if cls is None:
            from transformers.cache_utils import StaticCache as cls  # noqa: N813
        params = inspect.signature(cls.__init__).parameters
        cand = {"config": self.model.config, "max_cache_len": max_len, "max_batch_size": batch,
                "batch_size": batch, "device": self.torch.device(self.device), "dtype": self.dtype}
        kw = {k: v for k, v in cand.items() if k in params}
        return cls(**kw), sorted(kw)

    def mark_static(self, cache):
        """Tag the cache tensors as static addresses (transformers does it in lazy init; idempotent)."""
        n = 0
        try:
            import torch._dynamo as dynamo
        except Exception:  # noqa: BLE001
            return 0
        for layer in getattr(cache, "layers", []) or []:
            for attr in ("keys", "values", "cumulative_length"):
                t = getattr(layer, attr, None)
                if self.torch.is_tensor(t) and t.is_cuda:
                    dynamo.mark_static_address(t)
                    n += 1
        return n

    def agreement(self, batch, t0, toks):
        ref = self.eager_tokens.get(str(batch))
        if not ref:
            return {}
        try:
            a0 = t0.detach().cpu().tolist()
            dec = toks[:, :16].detach().cpu().tolist()
            out = {"agree_eager_prefill_token": sum(int(x == y) for x, y in zip(a0, ref["t0"])) / len(a0)}
            if dec and dec[0] and ref["dec"] and ref["dec"][0]:
                out["agree_eager_step1"] = sum(int(r[0] == e[0]) for r, e in zip(dec, ref["dec"])) / len(dec)
                fr = []
                for r, e in zip(dec, ref["dec"]):
                    k = min(len(r), len(e))
                    fr.append(sum(int(r[j] == e[j]) for j in range(k)) / max(1, k))
                out["agree_eager_prefix16"] = sum(fr) / len(fr)
            return out
        except Exception as e:  # noqa: BLE001
            return {"agree_error": err_text(e, 300)}


def _try_import(name):
    try:
        mod = __import__(name)
        return mod, None
    except Exception as e:  # noqa: BLE001
        return None, "%s not importable: %s" % (name, err_text(e, 500))


def logits_of(out):
    return out.logits if hasattr(out, "logits") else out[0]


# -------------------------------------------------------------------------------------------------- measurement

def decode_loop(ctx, step, t0, n, budget):
    """Run `n` greedy decode steps; `step(tok, i)` returns the next tokens. Returns per-step ms and the tokens."""
    torch = ctx.torch
    b = t0.shape[0]
    toks = torch.empty((b, n), dtype=torch.long, device=t0.device)
    tok = t0
    marks = [ctx.timer.mark()]
    w0 = time.perf_counter()
    done, truncated = 0, False
    for i in range(n):
        tok = step(tok, i)
        toks[:, i] = tok
        marks.append(ctx.timer.mark())
        done += 1
        if done < n and budget.expired():
            truncated = True
            break
    ctx.sync()
    wall = time.perf_counter() - w0
    ms = [ctx.timer.ms(marks[i], marks[i + 1]) for i in range(done)]
    return ms, toks[:, :done], wall, truncated


def step_stats(ms, batch, warm, wall, truncated):
    use = ms[warm:] if len(ms) > warm else list(ms)
    if not use:
        raise RuntimeError("no decode step was measured")
    srt = sorted(use)

    def q(f):
        return srt[min(len(srt) - 1, int(round(f * (len(srt) - 1))))]

    med = statistics.median(use)
    out = {"ms_per_step": med, "tok_s": batch * 1000.0 / med if med > 0 else None,
           "ms_per_step_mean": statistics.mean(use), "ms_per_step_p10": q(0.1), "ms_per_step_p90": q(0.9),
           "ms_per_step_min": srt[0], "steps": len(ms), "steps_in_median": len(use),
           "warmup_steps_excluded": len(ms) - len(use), "decode_wall_s": round(wall, 4), "truncated": truncated}
    return out


def finish(ctx, peer, batch, ms, toks, wall, truncated, t0=None, **extra):
    a = ctx.args
    st = step_stats(ms, batch, a.warmup_steps, wall, truncated)
    status, err = "ok", None
    if truncated and st["steps_in_median"] < 5:
        status, err = "skipped", "budget ran out after %d decode steps (too few to report)" % len(ms)
    r = result(peer, batch, status, err, **st)
    r.update(extra)
    if t0 is not None and status == "ok":
        r.update(ctx.agreement(batch, t0, toks))
    return r


def timed_prefill(ctx, fwd, **kw):
    ctx.sync()
    a = ctx.timer.mark()
    out = fwd(**kw)
    t0 = logits_of(out)[:, -1].argmax(-1)
    b = ctx.timer.mark()
    ctx.sync()
    return t0, ctx.timer.ms(a, b)


def run_hf_eager(ctx, batch, budget):
    torch, model, a = ctx.torch, ctx.model, ctx.args
    prompt = ctx.prompts[:batch].to(ctx.device)
    with torch.no_grad():
        out = model(input_ids=prompt, past_key_values=ctx.dynamic_cache(), use_cache=True, **ctx.prefill_kw())
        del out  # untimed: first use of this shape
        cache = ctx.dynamic_cache()
        t0, prefill_ms = timed_prefill(ctx, model, input_ids=prompt, past_key_values=cache, use_cache=True,
                                       **ctx.prefill_kw())

        def step(tok, i):
            o = model(input_ids=tok[:, None], past_key_values=cache, use_cache=True)
            return logits_of(o)[:, -1].argmax(-1)

        ms, toks, wall, trunc = decode_loop(ctx, step, t0, a.new_tokens, budget)
    ctx.eager_tokens[str(batch)] = {"t0": t0.cpu().tolist(), "dec": toks[:, :16].cpu().tolist()}
    return finish(ctx, "hf_eager", batch, ms, toks, wall, trunc, prefill_ms=prefill_ms, cache="DynamicCache")


def run_hf_static_eager(ctx, batch, budget):
    torch, model, a = ctx.torch, ctx.model, ctx.args
    P, N = a.prompt, a.new_tokens
    prompt = ctx.prompts[:batch].to(ctx.device)
    with torch.no_grad():
        cache, ckw = ctx.static_cache(batch, P + N)
        pos = torch.arange(P, P + N, device=ctx.device)
        model(input_ids=prompt, past_key_values=cache, use_cache=True, **ctx.prefill_kw(static=True))
        cache.reset()
        t0, prefill_ms = timed_prefill(ctx, model, input_ids=prompt, past_key_values=cache, use_cache=True,
                                       **ctx.prefill_kw(static=True))

        def step(tok, i):
            kw = {"cache_position": pos[i:i + 1]} if ctx.accepts_cache_position else {}
            o = model(input_ids=tok[:, None], past_key_values=cache, use_cache=True, **kw)
            return logits_of(o)[:, -1].argmax(-1)

        ms, toks, wall, trunc = decode_loop(ctx, step, t0, N, budget)
    return finish(ctx, "hf_static_eager", batch, ms, toks, wall, trunc, t0=t0, prefill_ms=prefill_ms,
                  cache="StaticCache", static_cache_kwargs=ckw, max_cache_len=P + N)


def _dynamo_prepare(torch):
    import torch._dynamo as dynamo
    dynamo.reset()
    try:
        import torch._inductor.cudagraph_trees as cgt
        cgt.reset_cudagraph_trees()
    except Exception:  # noqa: BLE001
        pass
    for name, val in (("recompile_limit", 64), ("cache_size_limit", 64), ("accumulated_recompile_limit", 512),
                      ("accumulated_cache_size_limit", 512)):
        if hasattr(dynamo.config, name):
            try:
                setattr(dynamo.config, name, val)
            except Exception:  # noqa: BLE001
                pass
    try:
        from torch._dynamo.utils import counters
        counters.clear()
    except Exception:  # noqa: BLE001
        pass


def _dynamo_counters():
    try:
        from torch._dynamo.utils import counters
    except Exception:  # noqa: BLE001
        return {}
    out = {}
    for key in ("stats", "inductor"):
        if key in counters:
            items = sorted(dict(counters[key]).items())[:60]
            out[key] = {str(k): v for k, v in items}
    gb = dict(counters.get("graph_break", {}))
    out["graph_breaks"] = sum(gb.values())
    if gb:
        out["graph_break_reasons"] = [str(k)[:300] for k in list(gb)[:5]]
    return out


def run_hf_static_compiled(ctx, batch, budget):
    torch, model, a = ctx.torch, ctx.model, ctx.args
    if not hasattr(torch, "compile"):
        raise RuntimeError("torch.compile is not available in torch %s" % torch.__version__)
    P, N = a.prompt, a.new_tokens
    W = max(1, min(a.compile_warmup, N))
    prompt = ctx.prompts[:batch].to(ctx.device)
    _dynamo_prepare(torch)
    mark_step = getattr(getattr(torch, "compiler", None), "cudagraph_mark_step_begin", None)
    with torch.no_grad():
        cache, ckw = ctx.static_cache(batch, P + N)
        pos = torch.arange(P, P + N, device=ctx.device)
        t0, _ = timed_prefill(ctx, model, input_ids=prompt, past_key_values=cache, use_cache=True,
                              **ctx.prefill_kw(static=True))
        marked = ctx.mark_static(cache)
        compiled = torch.compile(model.forward, mode=a.compile_mode, fullgraph=True)

        def call(tok, i):
            if mark_step is not None:
                mark_step()
            kw = {"cache_position": pos[i:i + 1]} if ctx.accepts_cache_position else {}
            o = compiled(input_ids=tok[:, None], past_key_values=cache, use_cache=True, **kw)
            return logits_of(o)[:, -1].argmax(-1)

        tc = time.time()
        tok = t0
        per_call = []
        for i in range(W):  # compilation, cudagraph warm-up and recording happen here
            ti = time.time()
            tok = call(tok, i)
            ctx.sync()
            per_call.append(round(time.time() - ti, 3))
            log("  compiled b=%d warm-up call %d: %.2fs" % (batch, i + 1, per_call[-1]))
        compile_s = time.time() - tc
        cache.reset()  # the warm-up used cache slots: start the measured decode from a fresh prefill
        t0, prefill_ms = timed_prefill(ctx, model, input_ids=prompt, past_key_values=cache, use_cache=True,
                                       **ctx.prefill_kw(static=True))
        ms, toks, wall, trunc = decode_loop(ctx, call, t0, N, budget)
    r = finish(ctx, "hf_static_compiled", batch, ms, toks, wall, trunc, t0=t0, prefill_ms=prefill_ms,
               compile_s=round(compile_s, 2), compile_warmup_calls_s=per_call, compile_mode=a.compile_mode,
               fullgraph=True, cache="StaticCache", static_cache_kwargs=ckw, max_cache_len=P + N,
               static_addresses_marked=marked, dynamo=_dynamo_counters())
    skips = r["dynamo"].get("inductor", {}).get("cudagraph_skips")
    if skips:
        r["note"] = "inductor skipped CUDA graphs %s time(s): reduce-overhead ran without them" % skips
    del compiled
    return r


def run_hf_static_cudagraph(ctx, batch, budget):
    torch, model, a = ctx.torch, ctx.model, ctx.args
    if not ctx.cuda:
        raise RuntimeError("CUDA graphs need CUDA")
    P, N = a.prompt, a.new_tokens
    prompt = ctx.prompts[:batch].to(ctx.device)
    use_cp = ctx.accepts_cache_position
    with torch.no_grad():
        cache, ckw = ctx.static_cache(batch, P + N)
        t0, _ = timed_prefill(ctx, model, input_ids=prompt, past_key_values=cache, use_cache=True,
                              **ctx.prefill_kw(static=True))
        static_in = t0[:, None].clone()
        static_pos = torch.full((1,), P, dtype=torch.long, device=ctx.device)

        def fwd():
            kw = {"cache_position": static_pos} if use_cp else {}
            return model(input_ids=static_in, past_key_values=cache, use_cache=True, **kw)

        tc = time.time()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(min(3, N)):
                nxt = logits_of(fwd())[:, -1].argmax(-1)
                static_in.copy_(nxt[:, None])
                static_pos.add_(1)
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_next = logits_of(fwd())[:, -1].argmax(-1)
            static_in.copy_(static_next[:, None])
            static_pos.add_(1)
        torch.cuda.synchronize()
        capture_s = time.time() - tc
        cache.reset()  # warm-up used cache slots (capture itself runs nothing)
        t0, prefill_ms = timed_prefill(ctx, model, input_ids=prompt, past_key_values=cache, use_cache=True,
                                       **ctx.prefill_kw(static=True))
        static_in.copy_(t0[:, None])
        static_pos.fill_(P)

        def step(tok, i):
            graph.replay()
            return static_next

        ms, toks, wall, trunc = decode_loop(ctx, step, t0, N, budget)
    r = finish(ctx, "hf_static_cudagraph", batch, ms, toks, wall, trunc, t0=t0, prefill_ms=prefill_ms,
               capture_s=round(capture_s, 3), cache="StaticCache", static_cache_kwargs=ckw, max_cache_len=P + N)
    del graph
    return r


STATIC_FNS = {"hf_static_eager": run_hf_static_eager, "hf_static_compiled": run_hf_static_compiled,
              "hf_static_cudagraph": run_hf_static_cudagraph}


def guarded(ctx, peer, batch, fn, *fargs):
    t = time.time()
    log("%s b=%d ..." % (peer, batch))
    try:
        r = fn(*fargs)
    except Exception as e:  # noqa: BLE001
        log("%s b=%d FAILED: %s" % (peer, batch, err_text(e, 600)))
        log(tb_tail())
        r = result(peer, batch, "error", err_text(e), traceback=tb_tail())
        if ctx is not None and ctx.cuda:
            try:
                ctx.torch.cuda.synchronize()
            except Exception as e2:  # noqa: BLE001
                r["cuda_state"] = "synchronize after the failure raised: " + err_text(e2, 500)
    r["wall_s"] = round(time.time() - t, 2)
    if r["status"] == "ok":
        log("%s b=%d: %.3f ms/step, %.1f tok/s, prefill %.1f ms (%.1fs)" % (
            peer, batch, r["ms_per_step"], r["tok_s"] or 0, r["prefill_ms"] or 0, r["wall_s"]))
    if ctx is not None and ctx.cuda:
        gc.collect()
        try:
            ctx.torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001
            pass
    return r


def run_static_series(ctx, peer, batches, budget, emit):
    """One static-cache peer over its batches, in this process."""
    a = ctx.args
    last_cost = None
    for b in batches:
        if budget.expired():
            emit(result(peer, b, "skipped", budget.reason()))
            continue
        if peer == "hf_static_compiled":
            need = a.min_compile_s if last_cost is None else last_cost
            if budget.remaining() < need:
                emit(result(peer, b, "skipped", "%.0fs of budget left, a compiled batch is estimated at %.0fs "
                                                "(--min-compile-s or the previous batch's cost)"
                            % (budget.remaining(), need)))
                continue
        t = time.time()
        r = guarded(ctx, peer, b, STATIC_FNS[peer], ctx, b, budget)
        last_cost = time.time() - t
        emit(r)


# ------------------------------------------------------------------------------------------------------- PEFT

def build_peft(ctx):
    torch, peft, a = ctx.torch, ctx.peft, ctx.args
    t = time.time()
    base = ctx.build_model()  # a fresh copy with the same seeded weights: PEFT injects layers in place
    targets = [x.strip() for x in a.targets.split(",") if x.strip()]

    def cfg():
        return peft.LoraConfig(r=a.rank, lora_alpha=a.alpha, target_modules=list(targets), lora_dropout=0.0,
                               bias="none", task_type="CAUSAL_LM")

    gkw = {"adapter_name": "a0"}
    if "autocast_adapter_dtype" in inspect.signature(peft.get_peft_model).parameters:
        gkw["autocast_adapter_dtype"] = False  # keep the adapters in the model dtype, as served
    pm = peft.get_peft_model(base, cfg(), **gkw)
    akw = {}
    try:
        if "autocast_adapter_dtype" in inspect.signature(pm.add_adapter).parameters:
            akw["autocast_adapter_dtype"] = False
    except (TypeError, ValueError):
        pass
    for i in range(1, a.adapters):
        pm.add_adapter("a%d" % i, cfg(), **akw)
    gen = torch.Generator(device=ctx.device).manual_seed(a.seed + 777)
    n_t, n_p, dts = 0, 0, set()
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if ".lora_A." in name or ".lora_B." in name:
                if p.dtype != ctx.dtype:
                    p.data = p.data.to(ctx.dtype)
                p.normal_(0.0, a.lora_std, generator=gen)  # B non-zero: every adapter really changes the output
                n_t += 1
                n_p += p.numel()
                dts.add(str(p.dtype).replace("torch.", ""))
    if n_t == 0:
        raise RuntimeError("no lora_A / lora_B parameters found after adding the adapters")
    pm.eval()
    info = {"setup_s": round(time.time() - t, 2), "adapters": a.adapters, "rank": a.rank, "alpha": a.alpha,
            "targets": targets, "lora_tensors": n_t, "expected_lora_tensors": a.adapters * a.layers * len(targets) * 2,
            "lora_params": n_p, "lora_dtype": sorted(dts), "peft_class": type(pm).__name__}
    # diagnostics: the adapters change the output, and two adapters differ from each other
    try:
        with torch.no_grad():
            x = ctx.prompts[:1].to(ctx.device)
            kw = dict(use_cache=False, **ctx.prefill_kw())
            names = ["a0", "a1"] if a.adapters > 1 else ["a0", "a0"]
            mixed = logits_of(pm(input_ids=x.repeat(2, 1), adapter_names=names, **kw))[:, -1].float()
            with pm.disable_adapter():
                base_l = logits_of(pm(input_ids=x, **kw))[:, -1].float()
            info["lora_delta_max"] = float((mixed[0] - base_l[0]).abs().max())
            info["adapter_outputs_max_diff"] = float((mixed[0] - mixed[1]).abs().max())
    except Exception as e:  # noqa: BLE001
        info["diag_error"] = err_text(e, 1000)
    log("PEFT: %d adapters, %d LoRA tensors (%s), %.1fs" % (a.adapters, n_t, ",".join(sorted(dts)),
                                                           info["setup_s"]))
    return pm, base, info


def run_peft(ctx, pm, info, batch, budget, mixed):
    torch, a = ctx.torch, ctx.args
    peer = "peft_mixed" if mixed else "peft_single"
    prompt = ctx.prompts[:batch].to(ctx.device)
    names = ["a%d" % (i % a.adapters) for i in range(batch)]
    extra = {"adapters": a.adapters if mixed else 1, "adapters_in_batch": len(set(names)) if mixed else 1,
             "rank": a.rank, "targets": info.get("targets"), "lora_dtype": info.get("lora_dtype")}
    akw = {"adapter_names": names} if mixed else {}
    if not mixed:
        pm.set_adapter("a0")
    with torch.no_grad():
        try:
            out = pm(input_ids=prompt, past_key_values=ctx.dynamic_cache(), use_cache=True, **akw,
                     **ctx.prefill_kw())
            del out
        except (TypeError, ValueError) as e:
            if mixed and "adapter_names" in str(e):
                log("forward(adapter_names=...) refused (%s): falling back to generate()" % err_text(e, 200))
                return run_peft_generate(ctx, pm, batch, names, extra)
            raise
        cache = ctx.dynamic_cache()
        t0, prefill_ms = timed_prefill(ctx, pm, input_ids=prompt, past_key_values=cache, use_cache=True, **akw,
                                       **ctx.prefill_kw())

        def step(tok, i):
            o = pm(input_ids=tok[:, None], past_key_values=cache, use_cache=True, **akw)
            return logits_of(o)[:, -1].argmax(-1)

        ms, toks, wall, trunc = decode_loop(ctx, step, t0, a.new_tokens, budget)
    return finish(ctx, peer, batch, ms, toks, wall, trunc, prefill_ms=prefill_ms, method="forward", **extra)


def run_peft_generate(ctx, pm, batch, names, extra):
    """Fallback: decode time = (generate N tokens - generate 1 token) / (N - 1)."""
    torch, a = ctx.torch, ctx.args
    prompt = ctx.prompts[:batch].to(ctx.device)
    mask = torch.ones_like(prompt)
    N = max(2, a.new_tokens)

    def gen(n):
        ctx.sync()
        t = time.perf_counter()
        pm.generate(input_ids=prompt, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                    adapter_names=names, pad_token_id=0)
        ctx.sync()
        return (time.perf_counter() - t) * 1000.0

    with torch.no_grad():
        gen(2)
        t1 = gen(1)
        tn = gen(N)
    per = (tn - t1) / (N - 1)
    r = result("peft_mixed", batch, "ok", None, ms_per_step=per, tok_s=batch * 1000.0 / per if per > 0 else None,
               prefill_ms=t1, steps=N - 1, method="generate(total - prefill-only)/(N-1)")
    r.update(extra)
    return r


# -------------------------------------------------------------------------------------------------- bandwidth

def measure_bandwidth(ctx):
    torch, a = ctx.torch, ctx.args
    nbytes = int(a.bandwidth_gib * (1 << 30))
    if ctx.cuda:
        src = torch.randn(nbytes // 2, dtype=torch.float16, device="cuda")
    else:
        src = torch.randn(nbytes // 4, dtype=torch.float32)
    dst = torch.empty_like(src)
    moved = 2 * src.numel() * src.element_size()  # bytes read + bytes written
    for _ in range(3):
        dst.copy_(src)
    ctx.sync()
    times = []
    for _ in range(a.bandwidth_iters):
        s = ctx.timer.mark()
        dst.copy_(src)
        e = ctx.timer.mark()
        ctx.sync()
        times.append(ctx.timer.ms(s, e))
    med = statistics.median(times)
    del src, dst
    if ctx.cuda:
        torch.cuda.empty_cache()
    return {"bandwidth_gbps": moved / (med / 1000.0) / 1e9, "tensor_bytes": moved // 2, "ms_median": med,
            "ms_all": [round(t, 4) for t in times], "device": ctx.device,
            "method": "torch copy_ of a random tensor, (bytes read + written) / median time"}


def hbm_bounds(args, batches, weight_bytes, elsize, bw_gbps):
    out = []
    hd = args.hidden // args.heads
    mean_ctx = args.prompt + args.new_tokens / 2.0
    for b in batches:
        kv = args.layers * 2 * b * args.kv_heads * hd * mean_ctx * elsize
        e = {"batch": b, "weight_bytes": weight_bytes, "kv_bytes": int(kv), "ms_per_step": None, "tok_s": None}
        if bw_gbps:
            ms = (weight_bytes + kv) / (bw_gbps * 1e9) * 1000.0
            e["ms_per_step"] = ms
            e["tok_s"] = b * 1000.0 / ms
        out.append(e)
    return out


# ------------------------------------------------------------------------------------------------ child process

def run_isolated(args, peer, batches, budget, eager_path, emit):
    """Run one static-cache peer in a child process; a crash or hang there costs only its own results."""
    fd, out_path = tempfile.mkstemp(prefix="hf_peers_%s_" % peer, suffix=".json")
    os.close(fd)
    os.unlink(out_path)
    cmd = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:] + [
        "--child-peer", peer, "--child-batches", ",".join(str(b) for b in batches), "--child-out", out_path,
        "--child-deadline", repr(budget.deadline), "--child-eager-tokens", eager_path or ""]
    log("%s: child process for batches %s" % (peer, batches))
    tail = collections.deque(maxlen=40)
    cg_lines = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                            bufsize=1, start_new_session=True)

    def pump():  # must keep draining the pipe whatever happens, or the child blocks on a full pipe
        for line in proc.stdout:
            try:
                line = line.rstrip("\n")
                tail.append(line)
                if "cudagraph" in line.lower() and "skip" in line.lower() and len(cg_lines) < 5:
                    cg_lines.append(line[:400])
                print("    [%s] %s" % (peer, line), file=sys.stderr, flush=True)
            except Exception:  # noqa: BLE001
                pass

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    killed = False
    try:
        proc.wait(timeout=max(5.0, budget.remaining() + 45.0))
    except subprocess.TimeoutExpired:
        killed = True
        log("%s: child past the budget deadline, killing its process group %d" % (peer, proc.pid))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except Exception:  # noqa: BLE001
            proc.kill()
        proc.wait()
    th.join(timeout=5)
    rc = proc.returncode
    got = []
    child = {}
    if os.path.exists(out_path):
        try:
            with open(out_path) as f:
                child = json.load(f)
            got = child.get("results", [])
        except Exception as e:  # noqa: BLE001
            log("%s: cannot read the child's results: %s" % (peer, err_text(e)))
        with contextlib.suppress(Exception):
            os.unlink(out_path)
    seen = set()
    for r in got:
        if cg_lines and r.get("status") == "ok":
            r.setdefault("stderr_cudagraph_lines", cg_lines)
        seen.add(r.get("batch"))
        emit(r)
    why_rc = "rc=%s" % rc
    if rc is not None and rc < 0:
        why_rc = "killed by signal %d (%s)" % (-rc, signal.Signals(-rc).name if -rc in signal.valid_signals() else "?")
    for b in batches:
        if b in seen:
            continue
        if killed:
            emit(result(peer, b, "skipped", "child killed at the budget deadline (still running); last output: "
                        + " | ".join(list(tail)[-5:])))
        else:
            msg = "child process ended (%s) before this batch reported" % why_rc
            if child.get("fatal"):
                msg += "; child setup failed: " + str(child["fatal"])
            msg += "; last output: " + " | ".join(list(tail)[-8:])
            emit(result(peer, b, "error", msg[:4000]))
    return rc


def child_main(args):
    global T0, LOG_TAG
    deadline = args.child_deadline or (T0 + args.budget_s)
    T0 = deadline - args.budget_s  # the parent's start: one clock for the logs and the budget messages
    LOG_TAG = "hf_peers:" + args.child_peer
    budget = Budget(deadline, args.budget_s)
    out = {"peer": args.child_peer, "results": []}
    parent = os.getppid()

    def watchdog():  # an orphan (parent killed) or a child far past the deadline must not hold the GPU
        while True:
            time.sleep(2.0)
            if os.getppid() != parent or time.time() > deadline + 90.0:
                log("parent gone or deadline long past: exiting")
                os._exit(4)

    threading.Thread(target=watchdog, daemon=True).start()

    def save():
        write_json(args.child_out, out)

    save()
    try:
        ctx = Ctx(args)
        if ctx.tf is None:
            raise RuntimeError(ctx.tf_err)
        ctx.load_model()
        if ctx.model is None:
            raise RuntimeError(ctx.model_err)
        if args.child_eager_tokens and os.path.exists(args.child_eager_tokens):
            with open(args.child_eager_tokens) as f:
                ctx.eager_tokens = json.load(f)
        warm_model(ctx)
    except Exception as e:  # noqa: BLE001
        out["fatal"] = err_text(e)
        log("child setup failed: " + err_text(e))
        log(tb_tail())
        save()
        return 3

    def emit(r):
        out["results"].append(r)
        save()

    run_static_series(ctx, args.child_peer, int_list(args.child_batches), budget, emit)
    return 0


def warm_model(ctx):
    """Untimed: first kernels, cuBLAS handles, lazy module loading."""
    torch = ctx.torch
    with torch.no_grad():
        x = ctx.prompts[:1].to(ctx.device)
        cache = ctx.dynamic_cache()
        t = logits_of(ctx.model(input_ids=x, past_key_values=cache, use_cache=True, **ctx.prefill_kw()))[:, -1]
        tok = t.argmax(-1)
        for _ in range(3):
            tok = logits_of(ctx.model(input_ids=tok[:, None], past_key_values=cache, use_cache=True))[:, -1].argmax(-1)
    ctx.sync()


# ------------------------------------------------------------------------------------------------------- main

def versions(ctx):
    v = {"python": platform.python_version(), "platform": platform.platform()}
    torch = ctx.torch if ctx else None
    if torch is not None:
        v["torch"] = torch.__version__
        v["torch_cuda"] = getattr(torch.version, "cuda", None)
        with contextlib.suppress(Exception):
            v["cudnn"] = torch.backends.cudnn.version()
    for name in ("transformers", "peft", "triton", "numpy", "safetensors"):
        mod = sys.modules.get(name)
        if mod is None:
            try:
                mod = __import__(name)
            except Exception as e:  # noqa: BLE001
                v[name] = None
                v[name + "_error"] = err_text(e, 200)
                continue
        v[name] = getattr(mod, "__version__", "?")
    return v


def device_info(ctx):
    if ctx is None or not ctx.cuda:
        return {"name": "cpu %s" % (platform.processor() or platform.machine()), "kind": "cpu",
                "cpus": os.cpu_count()}
    torch = ctx.torch
    p = torch.cuda.get_device_properties(0)
    d = {"name": torch.cuda.get_device_name(0), "kind": "cuda", "capability": "sm_%d%d" % (p.major, p.minor),
         "total_memory_gib": round(p.total_memory / 2 ** 30, 1), "multiprocessors": p.multi_processor_count,
         "device_count": torch.cuda.device_count(), "cpus": os.cpu_count()}
    with contextlib.suppress(Exception):
        q = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,clocks.max.mem,power.limit",
                            "--format=csv,noheader"], capture_output=True, text=True, timeout=15)
        if q.returncode == 0:
            d["nvidia_smi"] = q.stdout.strip().splitlines()[0]
    return d


def print_table(report):
    bounds = {e["batch"]: e for e in report.get("hbm_bound", [])}
    print("hf_peers: device=%s dtype=%s bandwidth=%s GB/s params=%s" % (
        (report.get("device") or {}).get("name"), report.get("dtype_effective") or report["shape"]["dtype"],
        "%.0f" % report["bandwidth_gbps"] if report.get("bandwidth_gbps") else "n/a", report.get("param_count")))
    print("%-20s %6s %-8s %10s %11s %11s %7s" % ("peer", "batch", "status", "ms/step", "tok/s", "prefill_ms",
                                                 "%bound"))
    for r in report["results"]:
        b = bounds.get(r["batch"], {})
        pct = ""
        if r.get("tok_s") and b.get("tok_s"):
            pct = "%.1f" % (100.0 * r["tok_s"] / b["tok_s"])
        f = lambda v, fmt: (fmt % v) if isinstance(v, (int, float)) else "-"  # noqa: E731
        line = "%-20s %6s %-8s %10s %11s %11s %7s" % (r["peer"], r["batch"], r["status"], f(r.get("ms_per_step"), "%.3f"),
                                                    f(r.get("tok_s"), "%.1f"), f(r.get("prefill_ms"), "%.1f"), pct)
        if r["status"] != "ok" and r.get("error"):
            line += "  " + str(r["error"]).splitlines()[0][:110]
        print(line)
    for b in report.get("hbm_bound", []):
        if b.get("ms_per_step"):
            print("%-20s %6s %-8s %10.3f %11.1f" % ("hbm_bound", b["batch"], "bound", b["ms_per_step"], b["tok_s"]))
    print("total %.1fs" % report["timings_s"].get("total", 0))
    sys.stdout.flush()


def main(argv=None):
    args = parse_args(argv)
    if args.child_peer:
        return child_main(args)
    budget = Budget(T0 + args.budget_s, args.budget_s)
    report = {"peers_version": PEERS_VERSION, "device": None, "versions": {}, "shape": shape_of(args),
              "args": {k: v for k, v in vars(args).items() if not k.startswith("child_") and k != "peer_set"},
              "bandwidth_gbps": None, "param_count": None, "weight_bytes": None, "results": [], "hbm_bound": [],
              "timings_s": {}, "smoke": bool(args.smoke), "status": "running"}
    report["args"]["peers_run"] = sorted(args.peer_set)
    timings = report["timings_s"]

    def save():
        timings["total"] = round(time.time() - T0, 2)
        write_json(args.out, report)

    def emit(r):
        report["results"].append(r)
        save()

    save()
    log("start: budget %.0fs, out %s%s" % (args.budget_s, args.out, " (smoke)" if args.smoke else ""))
    try:
        ctx = Ctx(args)
    except Exception as e:  # noqa: BLE001
        report["fatal"] = "setup failed: " + err_text(e)
        report["versions"] = versions(None)
        report["device"] = device_info(None)
        report["status"] = "fatal"
        log(report["fatal"])
        save()
        print_table(report)
        return 0
    torch = ctx.torch
    report["device"] = device_info(ctx)
    report["versions"] = versions(ctx)
    report["dtype_effective"] = str(ctx.dtype).replace("torch.", "")
    if ctx.dtype_note:
        report["dtype_note"] = ctx.dtype_note
    report["libraries_missing"] = {k: v for k, v in (("transformers", ctx.tf_err), ("peft", ctx.peft_err)) if v}
    log("device %s, torch %s, transformers %s, peft %s" % (report["device"]["name"], torch.__version__,
                                                           report["versions"].get("transformers"),
                                                           report["versions"].get("peft")))
    fp = formula_param_count(args)
    report["param_count"] = fp
    report["weight_bytes"] = fp * ctx.elsize
    report["param_count_source"] = "formula"
    save()

    # bandwidth first: it needs nothing but torch
    bw = None
    if "bandwidth" in args.peer_set:
        t = time.time()
        try:
            info = measure_bandwidth(ctx)
            bw = info["bandwidth_gbps"]
            report["bandwidth_gbps"] = bw
            report["bandwidth"] = info
            log("bandwidth: %.0f GB/s (%s)" % (bw, ctx.device))
        except Exception as e:  # noqa: BLE001
            report["bandwidth"] = {"status": "error", "error": err_text(e), "traceback": tb_tail()}
            log("bandwidth failed: " + err_text(e))
        timings["bandwidth"] = round(time.time() - t, 2)
    else:
        report["bandwidth"] = {"status": "skipped", "error": "not in --peers"}

    # the model
    t = time.time()
    if ctx.tf is not None:
        ctx.load_model()
    else:
        ctx.model_err = ctx.tf_err
        log(ctx.tf_err)
    timings["model_build"] = round(time.time() - t, 2)
    if ctx.model is not None:
        report["param_count"] = ctx.model_info["param_count"]
        report["weight_bytes"] = ctx.model_info["weight_bytes"]
        report["param_count_source"] = "model"
        report["param_count_formula"] = fp
        report["model"] = ctx.model_info
    else:
        report["model"] = {"status": "error", "error": ctx.model_err}
    all_b = sorted(set(int_list(args.batches)) | set(int_list(args.compiled_batches))
                   | set(int_list(args.cudagraph_batches)) | set(int_list(args.static_eager_batches))
                   | set(int_list(args.peft_batch)))
    report["hbm_bound"] = hbm_bounds(args, all_b, report["weight_bytes"], ctx.elsize, bw)
    save()

    if ctx.model is not None:
        try:
            t = time.time()
            warm_model(ctx)
            timings["warm_model"] = round(time.time() - t, 2)
        except Exception as e:  # noqa: BLE001
            log("warm-up failed: " + err_text(e))
            report["warm_model_error"] = err_text(e)

    def unavailable(peer, batches, why):
        for b in batches:
            emit(result(peer, b, "error", why))

    def skipped_all(peer, batches, why):
        for b in batches:
            emit(result(peer, b, "skipped", why))

    # 1. hf_eager
    t = time.time()
    if "hf_eager" in args.peer_set:
        bl = int_list(args.batches)
        if ctx.model is None:
            unavailable("hf_eager", bl, ctx.model_err)
        else:
            for b in bl:
                if budget.expired():
                    emit(result("hf_eager", b, "skipped", budget.reason()))
                    continue
                emit(guarded(ctx, "hf_eager", b, run_hf_eager, ctx, b, budget))
    timings["hf_eager"] = round(time.time() - t, 2)

    # 2. PEFT
    t = time.time()
    peft_peers = [p for p in ("peft_mixed", "peft_single") if p in args.peer_set]
    pb = int_list(args.peft_batch)
    if peft_peers and pb:
        why = ctx.model_err if ctx.model is None else ctx.peft_err
        if why:
            for p in peft_peers:
                unavailable(p, pb, why)
        elif budget.expired():
            for p in peft_peers:
                skipped_all(p, pb, budget.reason())
        else:
            pm = base = None
            try:
                log("PEFT setup ...")
                pm, base, info = build_peft(ctx)
                report["peft_setup"] = info
            except Exception as e:  # noqa: BLE001
                log("PEFT setup failed: " + err_text(e))
                log(tb_tail())
                report["peft_setup"] = {"status": "error", "error": err_text(e), "traceback": tb_tail()}
                for p in peft_peers:
                    unavailable(p, pb, "PEFT setup failed: " + err_text(e))
            if pm is not None:
                for p in peft_peers:
                    for b in pb:
                        if budget.expired():
                            emit(result(p, b, "skipped", budget.reason()))
                            continue
                        emit(guarded(ctx, p, b, run_peft, ctx, pm, info, b, budget, p == "peft_mixed"))
            del pm, base
            gc.collect()
            if ctx.cuda:
                torch.cuda.empty_cache()
    timings["peft"] = round(time.time() - t, 2)

    # 3. static-cache peers (compile / CUDA graphs in child processes by default)
    eager_path = None
    if ctx.eager_tokens:
        fd, eager_path = tempfile.mkstemp(prefix="hf_peers_eager_", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(ctx.eager_tokens, f)
    isolate = args.isolate if args.isolate is not None else ctx.cuda
    report["isolated_static_peers"] = bool(isolate)
    for peer, bl in (("hf_static_eager", int_list(args.static_eager_batches)),
                     ("hf_static_cudagraph", int_list(args.cudagraph_batches)),
                     ("hf_static_compiled", int_list(args.compiled_batches))):
        t = time.time()
        if peer not in args.peer_set or not bl:
            continue
        # hf_static_eager has no graphs and runs in this process unless --isolate was asked for explicitly
        iso = bool(args.isolate) if peer == "hf_static_eager" else isolate
        if not ctx.cuda and peer != "hf_static_eager":
            skipped_all(peer, bl, "needs CUDA (this run is on the CPU)")
        elif ctx.model is None:
            unavailable(peer, bl, ctx.model_err)
        elif budget.expired():
            skipped_all(peer, bl, budget.reason())
        elif iso:
            gc.collect()
            if ctx.cuda:
                torch.cuda.empty_cache()
            run_isolated(args, peer, bl, budget, eager_path, emit)
        else:
            run_static_series(ctx, peer, bl, budget, emit)
        timings[peer] = round(time.time() - t, 2)
    if eager_path:
        with contextlib.suppress(Exception):
            os.unlink(eager_path)

    report["status"] = "done"
    report["counts"] = dict(collections.Counter(r["status"] for r in report["results"]))
    save()
    log("done: %s -> %s" % (report["counts"], args.out))
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
