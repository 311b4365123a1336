"""👍/👎 on chat answers, kept so that users' verdicts become eval items.

    chat answer ─► shown.Recent (the answer, under the id its message carries)
    👍/👎 + comment ─► store.FeedbackStore (SQLite, store/feedback.sqlite3)
    qabot feedback export ─► export.py: 👍 → eval items, 👎 → lines for a reviewer to complete
"""
