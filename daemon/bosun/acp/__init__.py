"""`bosun acp`: Bosun as an Agent Client Protocol agent for editors (Zed, JetBrains, Neovim, Emacs)."""
