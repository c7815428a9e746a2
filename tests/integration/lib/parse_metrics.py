#!/usr/bin/python3
# Parse Prometheus text exposition (format 0.0.4) from stdin with the Prometheus project's own Python
# parser (Debian's python3-prometheus-client) and print it as JSON:
#   {"families": {name: {"type": t, "help": h}}, "samples": [[name, {label: value}, value], ...]}
# Exits 1 with the parser's complaint on anything it does not accept.
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
families, samples = {}, []
try:
    for f in text_string_to_metric_families(text):
        if f.name in families:
            raise ValueError(f"family {f.name} appears twice")
        families[f.name] = {"type": f.type, "help": f.documentation}
        for s in f.samples:
            v = s.value
            samples.append([s.name, s.labels, None if math.isnan(v) else ("+Inf" if v == math.inf else v)])
except Exception as e:  # the parser raises ValueError (and others) on malformed input
    print(f"parse_metrics: {e}", file=sys.stderr)
    sys.exit(1)
json.dump({"families": families, "samples": samples}, sys.stdout)
