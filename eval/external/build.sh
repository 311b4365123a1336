#!/usr/bin/env bash
# Rebuilds every eval set under eval/external/ from the two public SQuAD-format files (the same seeds give
# the same sets). Usage: bash eval/external/build.sh [FOLDER_WITH_cmrc2018_trial.json_AND_drcd_test.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${1:-../shared/eval/external}
qabot=${QABOT:-.venv/bin/qabot}
out=eval/external
cmrc=$src/cmrc2018_trial.json
drcd=$src/drcd_test.json
# standing sets: reported in README, gated in eval/baseline.json
$qabot eval import-squad "$cmrc" $out/cmrc --docs 200 --answerable 200 --unanswerable 50 --seed 0
$qabot eval import-squad "$drcd" $out/drcd --docs 150 --answerable 200 --unanswerable 50 --seed 0
# fit sets: what `qabot eval fit-gate` / `fit-ranker` learn from; never a question of a standing set
$qabot eval import-squad "$cmrc" $out/cmrc-fit --docs 150 --answerable 300 --unanswerable 100 --seed 1 \
    --exclude $out/cmrc/qa.jsonl
$qabot eval import-squad "$drcd" $out/drcd-fit --docs 200 --answerable 400 --unanswerable 150 --seed 1 \
    --exclude $out/drcd/qa.jsonl
# CI samples: small enough to index and run in the test suite; no question of a fit set
$qabot eval import-squad "$cmrc" $out/cmrc-ci --docs 60 --answerable 50 --unanswerable 15 --seed 2 \
    --exclude $out/cmrc-fit/qa.jsonl
$qabot eval import-squad "$drcd" $out/drcd-ci --docs 40 --answerable 50 --unanswerable 15 --seed 2 \
    --exclude $out/drcd-fit/qa.jsonl
# near misses: documents that lost the paragraph answering one of their questions (the subject is there)
$qabot eval import-squad "$drcd" $out/drcd-near --docs 120 --answerable 80 --unanswerable 0 --near-miss 80 --seed 3 \
    --exclude $out/drcd/qa.jsonl --exclude $out/drcd-fit/qa.jsonl --exclude $out/drcd-ci/qa.jsonl
# figure near misses: documents that lost only the sentences giving the figure one of their questions asks for
$qabot eval import-squad "$drcd" $out/drcd-figure --docs 160 --answerable 60 --unanswerable 0 --figure-miss 120 --seed 4 \
    --exclude $out/drcd/qa.jsonl --exclude $out/drcd-fit/qa.jsonl --exclude $out/drcd-ci/qa.jsonl --exclude $out/drcd-near/qa.jsonl
$qabot eval import-squad "$cmrc" $out/cmrc-figure --docs 250 --answerable 60 --unanswerable 0 --figure-miss 120 --seed 4 \
    --exclude $out/cmrc/qa.jsonl --exclude $out/cmrc-fit/qa.jsonl --exclude $out/cmrc-ci/qa.jsonl
# short articles: every document cut to its first paragraph; questions on the paragraphs cut off are near misses
$qabot eval import-squad "$drcd" $out/drcd-lead --docs 120 --answerable 120 --unanswerable 20 --near-miss 100 --lead --seed 5 \
    --exclude $out/drcd/qa.jsonl --exclude $out/drcd-fit/qa.jsonl --exclude $out/drcd-ci/qa.jsonl --exclude $out/drcd-near/qa.jsonl \
    --exclude $out/drcd-figure/qa.jsonl
# the answer unsaid: documents that lost only the sentences giving the answer of one question, of any kind
# (「总经理是谁？」 of an article that names only the 董事长)
$qabot eval import-squad "$cmrc" $out/cmrc-unsaid --docs 150 --answerable 100 --unanswerable 20 --sentence-miss 100 --seed 5 \
    --exclude $out/cmrc/qa.jsonl --exclude $out/cmrc-fit/qa.jsonl --exclude $out/cmrc-ci/qa.jsonl --exclude $out/cmrc-figure/qa.jsonl
$qabot eval import-squad "$drcd" $out/drcd-unsaid --docs 150 --answerable 100 --unanswerable 20 --sentence-miss 100 --seed 5 \
    --exclude $out/drcd/qa.jsonl --exclude $out/drcd-fit/qa.jsonl --exclude $out/drcd-ci/qa.jsonl --exclude $out/drcd-near/qa.jsonl \
    --exclude $out/drcd-figure/qa.jsonl --exclude $out/drcd-lead/qa.jsonl
# English questions (the bundled local model translates; QABOT_LOCAL=1 bash scripts/setup.sh installs it)
$qabot eval translate $out/cmrc-fit $out/cmrc-fit-en
$qabot eval translate $out/drcd-fit $out/drcd-fit-en --limit 250
$qabot eval translate $out/cmrc $out/cmrc-en
$qabot eval translate $out/drcd $out/drcd-en
