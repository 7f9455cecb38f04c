"""The data every benchmark seeds: U regular users, M models, K readable models per user.

Both servers get the same names and the same user -> models assignment, so the
workloads are comparable row by row.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Dataset:
    users: int
    models: int
    per_user: int = 10  # models each regular user may read (capped at `models`)

    @property
    def k(self) -> int:
        return min(self.per_user, self.models)

    @property
    def tag(self) -> str:
        return f"u{self.users}-m{self.models}-k{self.k}"

    def username(self, i: int) -> str:
        return f"user{i:05d}"

    def password(self, i: int) -> str:
        return f"pw-{self.username(i)}-bench"

    def model_id(self, j: int) -> str:
        return f"m{j:05d}"

    def usernames(self) -> list[str]:
        return [self.username(i) for i in range(self.users)]

    def model_ids(self) -> list[str]:
        return [self.model_id(j) for j in range(self.models)]

    def models_of(self, i: int) -> list[str]:
        """User i reads K consecutive models starting at i*K (mod M): every model gets
        about U*K/M readers and no user gets the same model twice."""
        return [self.model_id((i * self.k + n) % self.models) for n in range(self.k)]

    # The user the per-user workloads log in as, and the one `user(username:)` reads.
    @property
    def probe_index(self) -> int:
        return 0

    @property
    def target_index(self) -> int:
        return self.users // 2

    def describe(self) -> str:
        return (f"{self.users} regular users (+ admin), {self.models} models, "
                f"{self.k} readable models per user")


def default_groups(username: str) -> list[str]:
    """MLTE's groups for a new REGULAR user (RULES.md section 4): keep them when an
    edit replaces the group list."""
    return ["create-model", "read-custom_list", "create-custom_list", "edit-custom_list",
            f"read-user-{username}", f"edit-user-{username}"]


def read_group(model_id: str) -> str:
    return "read-model-" + model_id.replace("-", "___")


def chunks(items: list, n: int) -> list[list]:
    return [items[i:i + n] for i in range(0, len(items), n)]
