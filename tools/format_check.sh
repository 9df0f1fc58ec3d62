#!/bin/bash
# tools/format_check.sh [--fix] - clang-format (the root's .clang-format) in
# check mode on what this checkout changed: the lines changed since the
# merge base with main (or $CAPSULE_FORMAT_BASE), committed or not, and new
# untracked C files whole. On main itself (HEAD is the merge base) that is
# the uncommitted changes only. Where there is no main to compare with (a
# clean CI checkout of a branch), the base is the parent of the last
# commit, so the last commit is checked. Legacy lines nobody touched are
# never checked: the tree predates the format and is reformatted as it is
# edited.
#
# Exit 0 when all is formatted (or there is nothing to compare with: not a
# git checkout, or a one-commit shallow clone), 1 with the diff clang-format
# wants otherwise. --fix applies that diff to the working tree instead.
# Run by check.sh (a step) and `scons format-check`.
set -eu
cd "$(dirname "$0")/.."
fix=0
case "${1:-}" in
--fix) fix=1 ;;
"") ;;
*)
    echo "usage: $0 [--fix]" >&2
    exit 2
    ;;
esac
for tool in clang-format git-clang-format; do
    command -v "$tool" >/dev/null || {
        echo "format: $tool not found (Debian package clang-format)" >&2
        exit 2
    }
done
if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
    echo "format: not a git checkout with a commit: nothing to compare with, nothing checked"
    exit 0
fi

base=
if [ -n "${CAPSULE_FORMAT_BASE:-}" ]; then
    base=$(git rev-parse --verify "$CAPSULE_FORMAT_BASE^{commit}") || {
        echo "format: CAPSULE_FORMAT_BASE=$CAPSULE_FORMAT_BASE is not a commit" >&2
        exit 2
    }
else
    for ref in main origin/main; do
        if base=$(git merge-base HEAD "$ref" 2>/dev/null); then
            break
        fi
        base=
    done
    if [ -z "$base" ]; then
        base=$(git rev-parse --verify -q 'HEAD~1^{commit}') || base=
    fi
fi
if [ -z "$base" ]; then
    echo "format: no base commit (a shallow clone of one commit?): nothing checked"
    exit 0
fi
what="lines changed since $(git rev-parse --short "$base")"

# New files git does not know yet are checked whole.
mapfile -t untracked < <(git ls-files --others --exclude-standard -- '*.c' '*.h')

if [ $fix = 1 ]; then
    git clang-format --quiet --force --extensions c,h "$base" -- >/dev/null
    [ ${#untracked[@]} -eq 0 ] || clang-format -i "${untracked[@]}"
    echo "format: formatted the $what${untracked[*]:+ and ${#untracked[@]} new file(s)}"
    exit 0
fi

bad=0
out=$(git clang-format --extensions c,h --diff "$base" --)
case "$out" in
"" | "no modified files to format"* | "clang-format did not modify any files"*) ;;
*)
    printf '%s\n' "$out"
    bad=1
    ;;
esac
for f in "${untracked[@]}"; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        diff -u "$f" <(clang-format "$f") --label "a/$f" --label "b/$f" || true
        bad=1
    fi
done
if [ $bad = 1 ]; then
    echo "format: the $what are not formatted as .clang-format says (above: what clang-format" \
        "wants); tools/format_check.sh --fix applies it" >&2
    exit 1
fi
echo "format: ok ($what${untracked[*]:+, ${#untracked[@]} new file(s)})"
