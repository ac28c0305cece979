#!/usr/bin/env python3
"""Parses a Prometheus text exposition (the file named on the command line) with the reference
client's parser, prometheus_client.parser.text_string_to_metric_families, and prints what it
read as JSON: {"families": [{"name", "type", "samples": [{"name", "labels", "value"}]}]}.
A parse error exits 2 with the parser's message, so end-to-end tests check the exposition
against a real parser rather than their own reading of it."""
import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.stderr.write("prometheus_client is not installed: run `make deps` (pip install prometheus_client)\n")
    sys.exit(3)

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
try:
    families = []
    for family in text_string_to_metric_families(text):
        families.append({
            "name": family.name,
            "type": family.type,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
        })
except Exception as e:  # the parser raises ValueError and others on malformed input
    sys.stderr.write("not a valid exposition: %s\n" % e)
    sys.exit(2)
json.dump({"families": families}, sys.stdout)
