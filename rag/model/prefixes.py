"""The instruction prefixes e5 models were trained with: questions and passages are marked apart."""

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
