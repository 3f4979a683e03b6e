#!/usr/bin/python3
"""GET /metrics of a readiness endpoint (loopback), parsed by a real Prometheus text parser
(python3-prometheus-client's), then a Python expression evaluated on it and printed:

  scrape.py PORT EXPRESSION

The expression sees
  ct           the reply's Content-Type
  fams         {family name: (type, help)} (a counter's family name has no _total)
  v(NAME, **L) the value of the sample NAME with exactly the labels L, or None
  s(NAME)      [(labels dict, value)] of every sample called NAME
  text         the body as it came
A tuple is printed as its items separated by spaces.
Run by /usr/bin/python3: Debian's package is not in other interpreters' paths.
"""
import http.client
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    port, expression = sys.argv[1], sys.argv[2]
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    conn.request("GET", "/metrics")
    reply = conn.getresponse()
    text = reply.read().decode()
    if reply.status != 200:
        sys.exit("scrape.py: /metrics answered %d: %s" % (reply.status, text))
    ct = reply.getheader("Content-Type")
    fams, samples = {}, []
    for fam in text_string_to_metric_families(text):
        fams[fam.name] = (fam.type, fam.documentation)
        samples.extend(fam.samples)

    def v(metric, /, **labels):
        found = [x.value for x in samples if x.name == metric and x.labels == labels]
        return found[0] if found else None

    def s(name):
        return [(x.labels, x.value) for x in samples if x.name == name]

    result = eval(expression, {"ct": ct, "fams": fams, "v": v, "s": s, "text": text})
    print(*result) if isinstance(result, tuple) else print(result)


if __name__ == "__main__":
    main()
