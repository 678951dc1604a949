#!/usr/bin/python3
"""Render a heapsoc device dictionary into the device configuration lava-run reads.

    lava/render.py DICTIONARY [--job JOB.yaml] [-D NAME=VALUE ...] [-o DEVICE.yaml]

DICTIONARY is a device dictionary (`{% extends 'heapsoc.jinja2' %}` plus `{% set ... %}`
lines), looked up by path, then in lava/. The device-type templates load from lava/ and
from the dictionary's own directory. The variables the template sees are, as on a
lava-server: the `context:` of JOB.yaml (extra_kernel_args, extra_options, ...), then
-D NAME=VALUE (VALUE read as YAML: 2G, [a, b], true), each overridden by what the dictionary
sets itself. The output is checked: it must be YAML and pass lava-dispatcher's device schema
when lava_common is importable. Needs python3-jinja2 and python3-yaml (lava-dispatcher's
own dependencies).
"""

import argparse
import os
import sys

import jinja2
import jinja2.sandbox
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def variables(job_path, defines):
    values = {}
    if job_path:
        with open(job_path, encoding="utf-8") as f:
            job = yaml.safe_load(f) or {}
        values.update(job.get("context") or {})
    for d in defines:
        name, sep, value = d.partition("=")
        if not sep or not name:
            raise SystemExit("render.py: -D wants NAME=VALUE, got %r" % d)
        values[name] = yaml.safe_load(value) if value else ""
    return values


def render(dictionary, values):
    path = dictionary if os.path.exists(dictionary) else os.path.join(HERE, dictionary)
    if not os.path.exists(path):
        raise SystemExit("render.py: no device dictionary %s" % dictionary)
    search = [os.path.dirname(os.path.abspath(path)), HERE]
    # as lava-server renders device dictionaries: sandboxed, trim_blocks, no autoescape
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search),
        trim_blocks=True,
        autoescape=False,
    )
    with open(path, encoding="utf-8") as f:
        template = env.from_string(f.read())
    return template.render(**values)


def check(text):
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SystemExit("render.py: the rendered device is not a YAML mapping")
    try:
        from lava_common.schemas.device import validate
    except ImportError:
        return
    try:
        validate(data)
    except Exception as exc:  # voluptuous.Invalid and friends
        raise SystemExit("render.py: the rendered device fails LAVA's schema: %s" % exc)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dictionary")
    p.add_argument("--job", help="take the template variables of this job's context")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("-o", "--output", help="write here instead of stdout")
    a = p.parse_args()
    text = render(a.dictionary, variables(a.job, a.defines))
    check(text)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
