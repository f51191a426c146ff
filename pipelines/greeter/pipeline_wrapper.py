"""Example wrapper pipeline: builds a greeting offline and reports whether an LLM key is set."""

from hayhooks import BasePipelineWrapper
from haystack import Pipeline
from haystack.components.builders import PromptBuilder
from haystack.utils import Secret

API_KEY_ENV_VAR = "EXAMPLE_LLM_API_KEY"


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        # Optional key: loading succeeds whether or not the variable is set.
        self.api_key = Secret.from_env_var(API_KEY_ENV_VAR, strict=False)
        self.pipeline = Pipeline()
        self.pipeline.add_component(
            "builder",
            PromptBuilder(template="{{ greeting }}, {{ name }}!", required_variables=["greeting", "name"]),
        )

    def run_api(self, name: str, greeting: str = "Hello") -> dict:
        """
        Greet someone and count the words of the greeting.

        Args:
            name: Who to greet.
            greeting: The greeting word.
        """
        text = self.pipeline.run({"builder": {"greeting": greeting, "name": name}})["builder"]["prompt"]
        key = self.api_key.resolve_value()
        # Reveal only whether a key is configured, never the key itself.
        return {"greeting": text, "word_count": len(text.split()), "llm_key_configured": bool(key and key.strip())}
