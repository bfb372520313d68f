"""Write the copy of a vendor OpenAPI spec that a Prism proxy in front of a fake loads.

    proxy_spec.py IN OUT BASE_PATH [--lenient-responses]

- Every path gets BASE_PATH in front ("/v1", "/api2/json"): Prism matches the request path against the
  spec's paths as they are, ignoring the path of `servers[].url`, so without this a client whose base
  URL ends in /v1 (as for the real API) would hit "route not found".
- --lenient-responses replaces every response body schema with {} (anything): with `--errors`, Prism
  answers 500 VIOLATIONS whenever the fake's answer disagrees with the vendor schema (cloudalone
  `/server_types` lacks `locations`, fakepve sends `nextid` as a string, ...). With lenient responses it
  still validates every request and refuses a malformed one (422) or one without credentials (401)
  before it reaches the fake.

The copy goes to the runtime directory only; the vendor specs stay where they are.
"""

import json
import sys

METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')


def main(src, dst, base, lenient):
    with open(src) as f:
        spec = json.load(f)
    base = '/' + base.strip('/') if base.strip('/') else ''
    spec['paths'] = dict((base + path, item) for path, item in spec['paths'].items())
    if lenient:
        for item in spec['paths'].values():
            for method in METHODS:
                for response in ((item.get(method) or {}).get('responses') or {}).values():
                    for media in (response.get('content') or {}).values():
                        media['schema'] = {}
        for response in ((spec.get('components') or {}).get('responses') or {}).values():
            for media in (response.get('content') or {}).values():
                media['schema'] = {}
    with open(dst, 'w') as f:
        json.dump(spec, f)


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--lenient-responses']
    if len(args) != 3:
        sys.exit(__doc__.splitlines()[2].strip())
    main(args[0], args[1], args[2], '--lenient-responses' in sys.argv[1:])
