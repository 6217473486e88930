"""Validates Kubernetes objects (YAML documents on stdin) with kubernetes-validate and prints one JSON
result per object, so the caller gets structured results instead of parsing the CLI's text.

Differences from `kubernetes-validate FILE`: an object whose kind/apiVersion has no schema is a failure
here (the CLI only warns and exits 0), so a typo in apiVersion cannot pass unseen.

usage: python validate_manifests.py KUBERNETES_VERSION [--strict] < manifests.yaml
"""
import json
import sys

from kubernetes_validate import utils


def result(resource, ok, schema_version=None, path=None, message=None):
    metadata = resource.get("metadata") if isinstance(resource.get("metadata"), dict) else {}
    return {
        "kind": str(resource.get("kind")),
        "apiVersion": str(resource.get("apiVersion")),
        "name": str(metadata.get("name")),
        "ok": ok,
        "schemaVersion": schema_version,
        "path": path,
        "message": message,
    }


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    version = args[0]
    strict = "--strict" in args[1:]
    results = []
    # The CLI's own loader (it copes with YAML's '=' value tag the way the CLI does).
    for resource in utils.resources_from_file("-"):
        try:
            validated = utils.validate(resource, version, strict)
            results.append(result(resource, True, schema_version=validated))
        except utils.ValidationError as error:
            path = ".".join(str(item) for item in error.path)
            results.append(result(resource, False, schema_version=error.version, path=path, message=error.message))
        except utils.SchemaNotFoundError as error:
            results.append(result(resource, False, message=error.message))
        except utils.VersionNotSupportedError as error:
            sys.exit("kubernetes-validate %s: %s" % (utils.__version__, error.message))
    json.dump({"validator": "kubernetes-validate %s" % utils.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
