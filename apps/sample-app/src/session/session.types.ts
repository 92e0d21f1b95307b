declare module 'express-session' {
  interface SessionData {
    /** The signed-in user of this sample app. */
    user?: string;
  }
}
export {};
