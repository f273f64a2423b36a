// What the router needs of a view.

export interface View {
  /** The page's heading and document title. */
  title: string;
  element: HTMLElement;
  /** Called on every refresh tick while the view is shown. */
  refresh?(): Promise<void>;
  /** Called when the view goes away. */
  dispose?(): void;
}

/** Navigates within the app (set by main, used by views). */
export let navigate: (path: string) => void = () => undefined;

export function setNavigate(fn: (path: string) => void): void {
  navigate = fn;
}
