"""Samples from the service's Prometheus page (text exposition format), for the perf scripts that read it."""
import re

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>[^}]*)\} (?P<value>\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def samples(text: str, name: str):
    """(labels, value) of every labelled sample of the metric `name`; a bucket's `le` stays a string ("+Inf")."""
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match["name"] == name:
            yield dict(LABEL.findall(match["labels"])), float(match["value"])
