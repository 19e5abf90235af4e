"""Fine-tuning data from the agent: instructions in, LongWriter-style SFT examples out."""
