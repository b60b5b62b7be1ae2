"""PynamoDB sharing the `legacy_users` table (tests/fixtures/valid/legacy)
with the generated Rust code: `write` stores a user the way a PynamoDB
service does, `read` prints what PynamoDB reads back, as JSON.

Usage: pynamodb_users.py ENDPOINT TABLE write|read USER_ID
"""

import json
import sys
from datetime import datetime, timezone

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

endpoint, table, command, user_id = sys.argv[1:5]


class User(Model):
    class Meta:
        table_name = table
        host = endpoint
        region = "us-east-1"
        aws_access_key_id = "local"
        aws_secret_access_key = "local"

    user_id = UnicodeAttribute(hash_key=True)
    joined = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    team = UnicodeAttribute()
    team_pk = UnicodeAttribute()
    team_sk = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    signed_up = UTCDateTimeAttribute()
    legacy_flags = NumberAttribute(null=True)


if command == "write":
    User(
        user_id=user_id,
        joined="2024-01-01",
        email=f"{user_id}@example.com",
        team="blue",
        team_pk="TEAM#blue",
        team_sk=f"2024-01-01#{user_id}",
        signed_up=datetime(2024, 2, 1, 9, 30, 0, 250000, tzinfo=timezone.utc),
        legacy_flags=7,
    ).save()
elif command == "read":
    user = User.get(user_id, "2024-01-01")
    print(
        json.dumps(
            {
                "name": user.name,
                "signed_up": user.signed_up.isoformat(),
                "legacy_flags": user.legacy_flags,
            }
        )
    )
else:
    sys.exit(f"unknown command {command}")
