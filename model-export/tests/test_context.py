"""Context fields (side: context): one value per request, sent as contextFeatures, given to every candidate."""
import pandas as pd

from stemnet.raw_data.schema import FieldSpec, Schema
from stemnet.encoded_data.vocab import Vocabulary
from stemnet.export.parity import build_requests, candidate_values, encode_requests

SCHEMA = Schema(
    fields=(FieldSpec("user_id", "user"), FieldSpec("ad_id", "item"), FieldSpec("tab", "context")),
    tasks=("click",), user_id_field="user_id", item_id_field="ad_id",
)


def test_context_values_travel_as_context_features_and_reach_every_candidate():
    test = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "ad_id": ["a1", "a2", "a1"], "tab": ["home", "home", "live"],
                         "click": [0, 1, 0]})
    requests = build_requests(test, SCHEMA, count=2, max_candidates=2, seed=0)
    by_user = {r["userId"]: r for r in requests}
    assert by_user["u2"]["contextFeatures"] == {"tab": "live"}
    values = candidate_values(by_user["u1"], SCHEMA)
    assert [v["tab"] for v in values] == ["home"] * len(by_user["u1"]["candidates"])
    vocabs = {"user_id": Vocabulary(["u1", "u2"]), "ad_id": Vocabulary(["a1", "a2"]), "tab": Vocabulary(["home"])}
    encoded = encode_requests([by_user["u2"]], SCHEMA, vocabs)
    assert encoded[0, 2] == 0  # "live" is not in the tab vocabulary: the OOV row


def test_a_context_field_is_a_valid_side(tmp_path):
    SCHEMA.validate(tmp_path)
    SCHEMA.save(tmp_path)
    assert Schema.load(tmp_path).fields[2] == FieldSpec("tab", "context")
