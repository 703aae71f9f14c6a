"""Discovery: group reviewers' free-text notes into candidate failure categories (open coding →
axial coding), measure saturation, and turn the result into a new taxonomy version."""
