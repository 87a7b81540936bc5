#!/usr/bin/env python3
"""merge-junit: merge the JUnit files of sfsmoke's shards into one report.

usage: merge-junit.py OUTPUT INPUT...

Each INPUT is a JUnit file, or a folder searched for *.xml files (recursively,
as actions/download-artifact lays out one folder per artifact). Every
<testsuite> of every input goes, unchanged and in input order, under one
<testsuites> root. sfsmoke names a suite after its org, so two suites with the
same name mean two shards ran the same org: that is an error (exit 1), since
GitLab and the GitHub reporters keep only one of them. The counts stay on the
suites, as the CI readers want (see shared/junit/CONSUMERS.md). Python 3 only,
no packages: it runs on any CI runner. The output is written atomically.

Exit status: 0 merged, 1 an input is missing, unreadable or overlaps, 2 usage.
"""
import os
import sys
import tempfile
import xml.etree.ElementTree as ET


def inputs(paths):
    for path in paths:
        if os.path.isdir(path):
            found = sorted(
                os.path.join(d, f)
                for d, _, files in os.walk(path)
                for f in files
                if f.endswith(".xml")
            )
            if not found:
                raise SystemExit(f"merge-junit: error: no *.xml file under {path}")
            yield from found
        elif os.path.isfile(path):
            yield path
        else:
            raise SystemExit(f"merge-junit: error: {path}: no such file or folder")


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(argv) < 3 else sys.stdout)
        return 2 if len(argv) < 3 else 0
    output = argv[1]
    out_abs = os.path.abspath(output)
    root = ET.Element("testsuites", {"name": "sfsmoke"})
    seen = {}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    files = 0
    for path in inputs(argv[2:]):
        if os.path.abspath(path) == out_abs:
            continue  # a re-run finds its own output: leave it out
        try:
            doc = ET.parse(path).getroot()
        except ET.ParseError as e:
            print(f"merge-junit: error: {path}: not well-formed XML: {e}", file=sys.stderr)
            return 1
        if doc.tag == "testsuite":
            suites = [doc]
        elif doc.tag == "testsuites":
            suites = doc.findall("testsuite")  # nested suites come along inside their parent
        else:
            print(f"merge-junit: error: {path}: root is <{doc.tag}>, not <testsuites> or <testsuite>", file=sys.stderr)
            return 1
        files += 1
        for suite in suites:
            name = suite.get("name", "")
            if name in seen:
                print(
                    f"merge-junit: error: suite '{name}' is in both {seen[name]} and {path}\n"
                    "(hint: two shards ran the same org: give every shard the same N and a distinct K)",
                    file=sys.stderr,
                )
                return 1
            seen[name] = path
            for key in totals:
                totals[key] += int(suite.get(key, "0") or 0)
            suite.tail = "\n"
            root.append(suite)
    root.text = "\n"
    folder = os.path.dirname(out_abs)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".merge-junit-", suffix=".xml", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
            f.write(ET.tostring(root, encoding="utf-8"))
            f.write(b"\n")
        os.replace(tmp, out_abs)
    except BaseException:
        os.unlink(tmp)
        raise
    print(
        f"merge-junit: {output}: {files} files, {len(seen)} suites, {totals['tests']} tests, "
        f"{totals['failures']} failures, {totals['errors']} errors, {totals['skipped']} skipped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
