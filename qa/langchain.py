"""citeqa as a LangChain retriever, so a LangChain pipeline can drop it in.

    from qa.langchain import CiteqaRetriever
    docs = CiteqaRetriever(k=4).invoke("Who leads the delegation?")

Each ``Document`` carries the passage text and, in its metadata, the article id, title,
publisher, date, the exact character span in the article, and the scores.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from qa.passages import Passage
from qa.retriever import Filters, Retriever


class CiteqaRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever = Field(default_factory=Retriever)
    k: int = 5
    filters: Filters = Field(default_factory=Filters)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(p) for p in self.retriever.search(query, k=self.k, filters=self.filters)]


def to_document(passage: Passage) -> Document:
    metadata: dict[str, Any] = dict(passage.to_dict())  # the passage's one machine shape, less its text
    text = metadata.pop("text")
    return Document(page_content=text, metadata=metadata, id=f"{passage.article_hash}:{passage.start}-{passage.end}")
