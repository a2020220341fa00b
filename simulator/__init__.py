"""rent-or-own: pay an LLM API per token, or run open-weight models on rented or owned GPUs?"""
