"""Check pip's install report: cdk-secure-mlops came from the local index, with the uploaded wheel.

    python pip-origin.py PIP_REPORT.json INDEX_URL WHEEL
"""
import hashlib
import json
import sys

report, index, wheel = sys.argv[1:]
with open(report, encoding="utf-8") as f:
    items = {i["metadata"]["name"].lower(): i for i in json.load(f)["install"]}
ours = items.get("cdk-secure-mlops") or sys.exit("cdk-secure-mlops is not in the install report")
url = ours["download_info"]["url"]
if not url.startswith(index):
    sys.exit(f"downloaded from {url}, not from {index}")
with open(wheel, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
got = ours["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
if got and got != digest:
    sys.exit(f"sha256 {got} is not the uploaded wheel's {digest}")
cdk = items.get("aws-cdk-lib", {}).get("metadata", {}).get("version", "?")
print(f"{url}; aws-cdk-lib {cdk} from the extra index")
